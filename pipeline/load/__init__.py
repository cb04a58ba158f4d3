"""Load: lake → warehouse RAW schema, on whichever engine the stack's settings name."""

from __future__ import annotations

from collections.abc import Callable

from pipeline.extract import validate_date
from pipeline.lake import Lake
from pipeline.load.report import LoadReport, QuarantinedFile, TableLoad
from pipeline.settings import Settings

__all__ = ["LoadReport", "QuarantinedFile", "TableLoad", "load"]

Progress = Callable[[str, int, int], None]  # (what, done, total)


def load(settings: Settings, extract_date: str | None = None, progress: Progress | None = None) -> LoadReport:
    """Load one date's partitions (or, without a date, every file not loaded yet) into RAW.

    Rerunning is safe: a file already loaded with the same checksum is skipped.
    """
    if extract_date is not None:
        extract_date = validate_date(extract_date)
    if settings.warehouse.kind == "snowflake":
        from pipeline.load.snowflake import load_snowflake  # needs the cloud extras

        return load_snowflake(settings, extract_date, Lake.from_settings(settings.lake), progress=progress)
    from pipeline.load.duckdb import load_duckdb

    return load_duckdb(settings, extract_date, progress=progress)
