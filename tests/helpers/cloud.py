"""Offline stand-ins for the cloud: moto's S3 server and a fakesnow server, both real HTTP servers on 127.0.0.1.

Neither enforces IAM or Snowflake privileges: these tests prove the pipeline's protocol and data handling, not
the stack's permissions (see docs/cloud.md for what only a real account can verify).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from pipeline.extract.schemas import TABLE_SCHEMAS
from pipeline.naming import StackNames
from pipeline.settings import SECRET_OUTPUTS, Settings, SnowflakeWarehouse
from pipeline.source.server import free_port
from pipeline.warehouse.snowflake import connect
from tests.helpers.network import moto_s3_server
from tests.helpers.snowflake import start_fakesnow

FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",  # no instance-metadata lookups from pyarrow/boto3
}
SECRET_ACCESS_KEY = "s3cr3t-never-shown"
POSTGRES_PASSWORD = "pg-pa55word-never-shown"


def unique_stack() -> str:
    """A fresh stack name, so tests sharing one fakesnow process never share a database."""
    return f"t{uuid.uuid4().hex[:10]}"


def cloud_outputs(stack: str) -> dict:
    """A complete set of stack outputs, as `pulumi stack output --json --show-secrets` prints them."""
    names = StackNames(stack)
    outputs = {
        "stack": stack,
        "lake_bucket": names.bucket,
        "lake_uri": names.lake_uri,
        "aws_region": "eu-west-1",
        "pipeline_access_key_id": "AKIAEXAMPLE",
        "pipeline_secret_access_key": SECRET_ACCESS_KEY,
        "snowflake_account": "xy12345.eu-west-1",
        "snowflake_database": names.database,
        "snowflake_schemas": names.schemas,
        "snowflake_warehouses": names.warehouses,
        "snowflake_role": names.role,
        "snowflake_stage": names.stage,
        "snowflake_parquet_format": names.parquet_format,
        "snowflake_csv_format": names.csv_format,
        "postgres_dsn": f"postgresql://owner:{POSTGRES_PASSWORD}@db.example.com:5432/{names.postgres_database}",
    }
    assert set(SECRET_OUTPUTS) <= set(outputs)
    return outputs


def sample_table(table: str, rows: int, offset: int = 0) -> pa.Table:
    """`rows` distinct, valid rows of a source table in its lake schema (ids offset+1 ...)."""
    schema = TABLE_SCHEMAS[table]
    ids = range(offset + 1, offset + rows + 1)
    columns = []
    for field in schema:
        if field.name == "metadata":
            values = [f'{{"page": "/p/{i}"}}' for i in ids]
        elif pa.types.is_decimal(field.type):
            values = [Decimal(i) + Decimal("0.25") for i in ids]
        elif pa.types.is_integer(field.type):
            values = list(ids)
        elif pa.types.is_boolean(field.type):
            values = [i % 2 == 0 for i in ids]
        elif pa.types.is_timestamp(field.type):
            values = [f"2026-01-{i % 28 + 1:02d}T10:00:00" for i in ids]
            columns.append(pa.array(values, pa.string()).cast(field.type))
            continue
        else:
            values = [f"{field.name}-{i}" for i in ids]
        columns.append(pa.array(values, field.type))
    return pa.Table.from_arrays(columns, schema=schema)


@pytest.fixture
def fake_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in FAKE_AWS.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def s3_server(fake_aws: None) -> Iterator[str]:
    """moto's S3 server on a free port (a real HTTP endpoint; it does not enforce IAM). Yields its URL."""
    with moto_s3_server() as url:
        yield url


@pytest.fixture
def s3_bucket(s3_server: str) -> str:
    """A fresh bucket on the moto server; yields its name."""
    import boto3

    name = f"shopstream-{uuid.uuid4().hex[:12]}-lake"
    boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1").create_bucket(Bucket=name)
    return name


@contextmanager
def fakesnow_endpoint(env: pytest.MonkeyPatch) -> Iterator[dict]:
    """A fakesnow server on a free port, with the SNOWFLAKE_* environment (set through `env`) pointing at it.

    fakesnow 0.12 implements COPY's ON_ERROR only as ABORT_STATEMENT. The loader asks for CONTINUE, so this
    lets CONTINUE through to fakesnow's ABORT_STATEMENT path: a bad value then aborts that file's COPY
    (reported by the loader as a refused file), where Snowflake would skip just the bad rows.
    """
    import fakesnow.copy_into
    from sqlglot import exp

    original_params = fakesnow.copy_into._params

    def params_accepting_continue(expr, params=None, **kwargs):
        for param in expr.args.get("params", []):
            value = param.expression
            if param.this.name.upper() == "ON_ERROR" and value is not None and value.name.upper() == "CONTINUE":
                param.set("expression", exp.Var(this="ABORT_STATEMENT"))
        return original_params(expr, params, **kwargs)

    env.setattr(fakesnow.copy_into, "_params", params_accepting_continue)
    with start_fakesnow(port=free_port()) as options:
        env.setenv("SNOWFLAKE_HOST", options["host"])
        env.setenv("SNOWFLAKE_PORT", str(options["port"]))
        env.setenv("SNOWFLAKE_PROTOCOL", options["protocol"])
        env.setenv("SNOWFLAKE_USER", options["user"])
        env.setenv("SNOWFLAKE_PASSWORD", options["password"])
        for name in ("SNOWFLAKE_PRIVATE_KEY_PATH", "SNOWFLAKE_AUTHENTICATOR"):
            env.delenv(name, raising=False)
        yield options


def fakesnow_connection(server: dict, database: str) -> Any:
    """A Snowflake connector connection to the fakesnow `server` (password login: fakesnow knows no key pairs)."""
    from snowflake.connector import connect as connect_snowflake

    return connect_snowflake(
        account="fakesnow", database=database, host=server["host"], port=server["port"],
        protocol=server["protocol"], user=server["user"], password=server["password"],
        login_timeout=30, network_timeout=60,
    )  # fmt: skip


@pytest.fixture
def snowflake_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict]:
    """A fakesnow server for one test (see `fakesnow_endpoint`); the environment is restored afterwards."""
    with fakesnow_endpoint(monkeypatch) as options:
        yield options


def create_snowflake_objects(settings: Settings, raw_dir: Path) -> None:
    """What `pulumi up` creates in the stack's database, on the fake account: the database, its schemas, the named
    file formats and the lake stage. The one difference from the cloud is the stage's URL: `file://<raw_dir>/`
    where the stack has `s3://<bucket>/raw/` with its storage integration."""
    warehouse = settings.warehouse
    assert isinstance(warehouse, SnowflakeWarehouse)
    with connect(settings) as connection:
        cursor = connection.cursor()
        cursor.execute(f"CREATE DATABASE IF NOT EXISTS {warehouse.database}")
        for schema in warehouse.schemas.values():
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {warehouse.database}.{schema}")
        cursor.execute(f"CREATE FILE FORMAT IF NOT EXISTS {warehouse.parquet_format} TYPE = PARQUET")
        cursor.execute(
            f"CREATE FILE FORMAT IF NOT EXISTS {warehouse.csv_format} TYPE = CSV "
            "SKIP_HEADER = 1 FIELD_OPTIONALLY_ENCLOSED_BY = '\"' EMPTY_FIELD_AS_NULL = TRUE"
        )
        cursor.execute(
            f"CREATE STAGE IF NOT EXISTS {warehouse.stage} URL = 'file://{raw_dir.resolve()}/' "
            f"FILE_FORMAT = (FORMAT_NAME = '{warehouse.parquet_format}')"
        )
