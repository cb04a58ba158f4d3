"""Load: lake → warehouse RAW schema, on whichever engine the stack's settings name."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.errors import QuarantinedFilesError
from pipeline.lake import Lake
from pipeline.lake_contract import validate_date, validate_tables
from pipeline.load.report import LoadReport, QuarantinedFile, TableLoad
from pipeline.naming import SOURCE_TABLES
from pipeline.progress import Progress
from pipeline.settings import Settings

__all__ = ["LoadReport", "QuarantinedFile", "TableLoad", "check_quarantine", "load"]


def load(
    settings: Settings,
    extract_date: str | None = None,
    progress: Progress | None = None,
    tables: Sequence[str] | None = None,
) -> LoadReport:
    """Load one date's partitions (or, without a date, every file not loaded yet) into RAW.

    `tables` limits the load to some source tables (default: all six). Rerunning is safe: a file already loaded
    with the same checksum is skipped.
    """
    if extract_date is not None:
        extract_date = validate_date(extract_date)
    selected = SOURCE_TABLES if tables is None else validate_tables(tables)
    if settings.warehouse.kind == "snowflake":
        from pipeline.load.snowflake import load_snowflake  # needs the cloud extras

        lake = Lake.from_settings(settings.lake)
        return load_snowflake(settings, extract_date, lake, progress=progress, tables=selected)
    from pipeline.load.duckdb import load_duckdb

    return load_duckdb(settings, extract_date, progress=progress, tables=selected)


def check_quarantine(report: LoadReport, accept: bool = False) -> None:
    """A load that quarantined files is not a success unless the caller accepts it (`--accept-quarantine`)."""
    if report.quarantined and not accept:
        raise QuarantinedFilesError(
            f"{len(report.quarantined)} file(s) quarantined, the rest loaded; fix or remove them and rerun, "
            "or pass --accept-quarantine to accept the load as it is"
        )
