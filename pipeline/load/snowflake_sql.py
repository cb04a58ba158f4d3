"""Snowflake statements of the loader, built as plain strings so they can be read and tested on their own.

Every statement here runs unchanged on Snowflake and on fakesnow (the offline test double): the only thing a
test changes is the stage's URL (`file://` instead of `s3://`). That rules out two Snowflake-only COPY options,
so the loader does without them (see docs/cloud.md):
- `INCLUDE_METADATA` (fakesnow rejects it): each file is copied on its own, then its rows are stamped with
  `_SOURCE_FILE`/`_LOADED_AT` in the same transaction (`stamp_rows`);
- `PATTERN =` (fakesnow lacks it): files are named with `FILES = (...)`, taken from the lake's listing, which is
  also what makes Snowflake's load metadata skip files loaded before.
"""

from __future__ import annotations

import re

import pyarrow as pa

LOAD_ERRORS_TABLE = "_LOAD_ERRORS"
SOURCE_FILE_COLUMN = "_SOURCE_FILE"
LOADED_AT_COLUMN = "_LOADED_AT"

# Bad rows are skipped and reported; the good rows of the same file still load.
ON_ERROR = "CONTINUE"

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
# A partition under the stage (`postgres/orders/dt=2026-11-24`) and a file in it: nothing else reaches COPY.
_STAGE_PATH = re.compile(r"\A[a-z_]+(/[a-z_]+)?/dt=\d{4}-\d{2}-\d{2}\Z")
_FILE_NAME = re.compile(r"\A[A-Za-z0-9_-][A-Za-z0-9._-]*\.parquet\Z")


def snowflake_type(dtype: pa.DataType) -> str:
    """The Snowflake column type that holds an Arrow type without loss."""
    if pa.types.is_decimal(dtype):
        return f"NUMBER({dtype.precision},{dtype.scale})"
    if pa.types.is_integer(dtype):
        return "NUMBER(38,0)"
    if pa.types.is_floating(dtype):
        return "FLOAT"
    if pa.types.is_boolean(dtype):
        return "BOOLEAN"
    if pa.types.is_timestamp(dtype):
        # Source timestamps are naive (PostgreSQL `timestamp`); a zone-aware one is stored as UTC wall time.
        return "TIMESTAMP_NTZ"
    if pa.types.is_date(dtype):
        return "DATE"
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        return "VARCHAR"
    if pa.types.is_binary(dtype) or pa.types.is_large_binary(dtype):
        return "BINARY"
    raise ValueError(f"no Snowflake type for Arrow type {dtype}")


def identifier(name: str) -> str:
    """An unquoted upper-case identifier; refuses anything that would need quoting (no SQL injection by name)."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"{name!r} is not a plain SQL identifier")
    return name.upper()


def qualified(database: str, schema: str, table: str) -> str:
    return ".".join(identifier(part) for part in (database, schema, table))


def dotted(name: str) -> str:
    """A fully qualified object name from the stack outputs (`DB.RAW.LAKE_STAGE`), checked part by part."""
    return ".".join(identifier(part) for part in name.split("."))


def literal(value: str) -> str:
    """A single-quoted SQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def create_raw_table(table: str, schema: pa.Schema, database: str) -> str:
    """DDL of RAW.<table>: the file's columns with matching types, plus where and when each row was loaded."""
    columns = [f"{identifier(field.name)} {snowflake_type(field.type)}" for field in schema]
    columns += [f"{SOURCE_FILE_COLUMN} VARCHAR", f"{LOADED_AT_COLUMN} TIMESTAMP_NTZ"]
    body = ",\n  ".join(columns)
    return f"CREATE TABLE IF NOT EXISTS {qualified(database, 'RAW', table)} (\n  {body}\n)"


def existing_raw_tables(database: str) -> str:
    """Names of the tables already in RAW (upper-case)."""
    return (
        f"SELECT TABLE_NAME FROM {identifier(database)}.INFORMATION_SCHEMA.TABLES "
        "WHERE TABLE_SCHEMA = 'RAW' AND TABLE_TYPE = 'BASE TABLE'"
    )


def create_load_errors_table(database: str) -> str:
    """DDL of RAW._LOAD_ERRORS: one row per rejected row (or per file, when a whole file is refused)."""
    return (
        f"CREATE TABLE IF NOT EXISTS {qualified(database, 'RAW', LOAD_ERRORS_TABLE)} (\n"
        "  TABLE_NAME VARCHAR,\n  FILE_NAME VARCHAR,\n  ROW_NUMBER NUMBER(38,0),\n  COLUMN_NAME VARCHAR,\n"
        "  ERROR VARCHAR,\n  REJECTED_RECORD VARCHAR,\n  EXTRACT_DATE VARCHAR,\n  LOGGED_AT TIMESTAMP_NTZ\n)"
    )


def use_warehouse(warehouse: str) -> str:
    return f"USE WAREHOUSE {identifier(warehouse)}"


def copy_into(table: str, database: str, stage: str, stage_path: str, files: list[str], file_format: str) -> str:
    """COPY one or more files of a partition (`@<stage>/<prefix>/dt=.../`) into RAW.<table>.

    No truncation first: Snowflake's load metadata (64 days) skips files loaded before, so a rerun adds nothing.
    """
    if not files:
        raise ValueError("COPY INTO needs at least one file")
    if not _STAGE_PATH.match(stage_path.strip("/")) or not all(_FILE_NAME.match(name) for name in files):
        raise ValueError(f"{stage_path!r} / {files!r} is not a lake partition and file name")
    names = ", ".join(literal(name) for name in files)
    # Quoted as well as checked: a key from a tampered manifest can never add COPY options.
    location = literal(f"@{dotted(stage)}/{stage_path.strip('/')}/")
    return (
        f"COPY INTO {qualified(database, 'RAW', table)}\n"
        f"FROM {location}\n"
        f"FILES = ({names})\n"
        f"FILE_FORMAT = (FORMAT_NAME = {literal(file_format)})\n"
        "MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE\n"
        f"ON_ERROR = {ON_ERROR}"
    )


def stamp_rows(table: str, database: str) -> str:
    """Mark the rows a COPY just added (the only ones without a source file) with their file and load time.

    Parameters: the file's lake key. Runs in the COPY's transaction, so no other load can interleave.
    """
    return (
        f"UPDATE {qualified(database, 'RAW', table)} "
        f"SET {SOURCE_FILE_COLUMN} = %s, {LOADED_AT_COLUMN} = CURRENT_TIMESTAMP()::TIMESTAMP_NTZ "
        f"WHERE {SOURCE_FILE_COLUMN} IS NULL"
    )


def rejected_rows(table: str, database: str, query_id: str) -> str:
    """Every row a COPY with ON_ERROR = CONTINUE skipped, from Snowflake's VALIDATE table function."""
    if not re.fullmatch(r"[0-9a-fA-F-]+", query_id):
        raise ValueError(f"{query_id!r} is not a Snowflake query id")
    return (
        'SELECT "FILE", "ROW_NUMBER", "COLUMN_NAME", "ERROR", "REJECTED_RECORD" '
        f"FROM TABLE(VALIDATE({qualified(database, 'RAW', table)}, JOB_ID => {literal(query_id)}))"
    )


def insert_load_error(database: str) -> str:
    """Parameters: table, file, row number, column, error, rejected record, extract date."""
    return (
        f"INSERT INTO {qualified(database, 'RAW', LOAD_ERRORS_TABLE)} "
        "(TABLE_NAME, FILE_NAME, ROW_NUMBER, COLUMN_NAME, ERROR, REJECTED_RECORD, EXTRACT_DATE, LOGGED_AT) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, CURRENT_TIMESTAMP()::TIMESTAMP_NTZ)"
    )
