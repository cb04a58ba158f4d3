"""Undo a load: remove the rows one lake file (or one date's files) put into RAW, and its load history.

Without its history row the file counts as never loaded: the next `load` loads it again, unless it was moved to
quarantine (`quarantine=True`) or deleted from the lake.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.errors import ShopstreamError
from pipeline.lake import Lake
from pipeline.lake_contract import partition_name, validate_date
from pipeline.load.duckdb import HISTORY_TABLE, ensure_raw, open_warehouse
from pipeline.rows import one_row
from pipeline.settings import DuckDBWarehouse, Settings


@dataclass(frozen=True)
class UnloadedFile:
    key: str
    table: str
    rows: int
    quarantined_as: str | None = None


def unload(
    settings: Settings, keys: list[str], extract_date: str | None = None, quarantine: bool = False
) -> list[UnloadedFile]:
    """Remove the RAW rows of `keys` (lake keys as `load` printed them) or of every file of `extract_date`."""
    if not isinstance(settings.warehouse, DuckDBWarehouse):
        raise ShopstreamError(
            "unload works on the local DuckDB warehouse; on Snowflake delete the rows with "
            "DELETE FROM RAW.<table> WHERE _SOURCE_FILE = '<key>'"
        )
    if not keys and extract_date is None:
        raise ShopstreamError("name the lake file(s) to unload, or --date YYYY-MM-DD for a whole extraction")
    if extract_date is not None:
        extract_date = validate_date(extract_date)
    unloaded: list[UnloadedFile] = []
    with open_warehouse(settings) as con:
        ensure_raw(con)
        loaded = dict(con.execute(f"SELECT DISTINCT file, table_name FROM {HISTORY_TABLE}").fetchall())
        wanted = list(keys)
        if extract_date is not None:
            wanted += sorted(key for key in loaded if f"/{partition_name(extract_date)}/" in key)
        missing = [key for key in wanted if key not in loaded]
        if missing or not wanted:
            raise ShopstreamError(
                f"not loaded into RAW: {', '.join(missing) or extract_date}; "
                "`shopstream status` shows what is loaded, `shopstream load` prints each file's key"
            )
        con.begin()
        try:
            for key in dict.fromkeys(wanted):
                table = loaded[key]
                (rows,) = one_row(con.execute(f'SELECT count(*) FROM RAW."{table}" WHERE _source_file = ?', [key]))
                con.execute(f'DELETE FROM RAW."{table}" WHERE _source_file = ?', [key])
                con.execute(f"DELETE FROM {HISTORY_TABLE} WHERE file = ?", [key])
                unloaded.append(UnloadedFile(key, table, rows))
            con.commit()
        except BaseException:
            con.rollback()
            raise
    if quarantine:
        lake = Lake.from_settings(settings.lake)
        unloaded = [
            UnloadedFile(u.key, u.table, u.rows, lake.quarantine(u.key) if lake.exists(u.key) else None)
            for u in unloaded
        ]
    return unloaded
