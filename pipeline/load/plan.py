"""Which lake files a load may read: only partitions whose extraction finished (a manifest exists).

A partition without a manifest is an extraction that was killed or is still running: its files are left alone
and reported. A file that is not Parquet (`extra.csv`) is reported too, never silently skipped. With no finished
extraction at all (a mistyped lake, a date never extracted) there is nothing to load, which is an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from pipeline.errors import NothingToLoadError
from pipeline.lake import Lake
from pipeline.lake_contract import finished_dates, partition_date, partition_prefix
from pipeline.naming import LAKE_PREFIXES

PARQUET = ".parquet"


@dataclass
class LoadPlan:
    files: list[tuple[str, str]] = field(default_factory=list)  # (table, key) to load, in order
    unfinished: list[str] = field(default_factory=list)  # partitions without a manifest
    unknown: list[str] = field(default_factory=list)  # keys that are not Parquet


def plan_load(lake: Lake, tables: Sequence[str], extract_date: str | None) -> LoadPlan:
    finished = set(finished_dates(lake))
    if extract_date is not None and extract_date not in finished:
        raise NothingToLoadError(
            f"no finished extraction for {extract_date} in {lake.uri} (no manifest): "
            f"run `shopstream extract --date {extract_date}` first, or check the date and the lake"
        )
    if not finished:
        raise NothingToLoadError(
            f"the lake {lake.uri} holds no finished extraction: run `shopstream extract` first, "
            "or check SHOPSTREAM_LAKE_URI / --outputs"
        )
    plan = LoadPlan()
    for table in tables:
        prefix = partition_prefix(table, extract_date) if extract_date else LAKE_PREFIXES[table]
        for key in lake.list_files(prefix, suffix=""):
            partition = partition_date(key)
            if not key.endswith(PARQUET):
                plan.unknown.append(key)
            elif partition not in finished:
                unfinished = str(PurePosixPath(key).parent) + "/"
                if unfinished not in plan.unfinished:
                    plan.unfinished.append(unfinished)
            else:
                plan.files.append((table, key))
    if not plan.files:
        when = f" for {extract_date}" if extract_date else ""
        raise NothingToLoadError(
            f"no finished Parquet files of {', '.join(tables)}{when} in {lake.uri}; run `shopstream extract` first"
        )
    return plan
