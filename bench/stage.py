"""One benchmark step, run in a child process by the harness: `python -m bench.stage STAGE PARAMS_JSON RESULT_FILE`.

The stack comes from the environment the harness sets (SHOPSTREAM_HOME, SHOPSTREAM_PG_PORT). Each step times
only its own work (imports and interpreter start-up excluded) and writes {rows, seconds, detail, extra} as JSON.
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from pipeline.stack import Stack


def local_stack(name: str) -> Stack:
    """The benchmark's stack: always the local twins in the harness's SHOPSTREAM_HOME."""
    return Stack.open(name, local=True)


def generate(stack: str, scale: float, seed: int) -> dict:
    """Demo data: numpy build of the six tables, then their bulk load into PostgreSQL (the product's generate)."""
    from pipeline.generate import generate as generate_data

    dsn = local_stack(stack).source_dsn()
    first_copy: list[float] = []

    def note_first_copy(_what: str, _done: int, _total: int) -> None:
        if not first_copy:  # the loader reports before its first COPY: the first table is built
            first_copy.append(time.perf_counter())

    started = time.perf_counter()
    counts = generate_data(dsn, scale=scale, seed=seed, progress=note_first_copy)
    seconds = time.perf_counter() - started
    first = (first_copy[0] - started) if first_copy else 0.0
    return {
        "rows": sum(counts.values()),
        "seconds": seconds,
        "detail": f"numpy build overlapping the COPY; first COPY after {first:.1f} s",
        "extra": {"tables": counts},
    }


def extract(stack: str, extract_date: str) -> dict:
    """The product's extract; per table, the time from its query to the next table's query (fetch and Arrow
    conversion: Parquet writing overlaps in a background thread), read from the extract's progress calls."""
    from pipeline.extract import extract as extract_tables

    starts: list[tuple[str, float]] = []

    def note_table_start(what: str, _done: int, _total: int) -> None:
        starts.append((what.removeprefix("extract "), time.perf_counter()))

    started = time.perf_counter()
    report = extract_tables(local_stack(stack).settings, extract_date, note_table_start)
    seconds = time.perf_counter() - started
    fetch_seconds = {table: end - start for (table, start), (_, end) in itertools.pairwise(starts)}
    tables = {
        t.table: {"rows": t.rows, "fetch_seconds": fetch_seconds.get(t.table, 0.0), "bytes": t.size}
        for t in report.tables
    }
    lake_bytes = sum(t.size for t in report.tables)
    return {
        "rows": report.total_rows,
        "seconds": seconds,
        "detail": f"{len(tables)} Parquet files, {size_text(lake_bytes)}",
        "extra": {"tables": tables},
    }


def load(stack: str, extract_date: str) -> dict:
    from pipeline.load import load as load_files

    started = time.perf_counter()
    report = load_files(local_stack(stack).settings, extract_date)
    seconds = time.perf_counter() - started
    if report.quarantined or report.files_loaded == 0:
        raise SystemExit(f"load did not load every file: {report.files_loaded} loaded, {report.quarantined}")
    return {"rows": report.rows_loaded, "seconds": seconds, "detail": f"{report.files_loaded} files into RAW"}


def transform(stack: str) -> dict:
    """`dbt build`; rows are the RAW rows it reads (the warehouse's input), so rows/s compares across scales."""
    from pipeline.transform import build

    opened = local_stack(stack)
    raw_rows = sum(opened.warehouse.layer_counts().get("RAW", {}).values())
    started = time.perf_counter()
    report = build(opened.settings)
    seconds = time.perf_counter() - started
    return {
        "rows": raw_rows,
        "seconds": seconds,
        "detail": f"{report.models_built} models, {report.tests_passed} tests passed",
    }


def baseline_generate(dsn: str, scale: float, seed: int) -> dict:
    from bench import baseline

    started = time.perf_counter()
    counts = baseline.generate(dsn, scale, seed)
    return {
        "rows": sum(counts.values()),
        "seconds": time.perf_counter() - started,
        "detail": f"Faker per row, {baseline.batch_driver()}",
        "extra": {"tables": counts},
    }


def baseline_export(dsn: str, out_dir: str) -> dict:
    from bench import baseline

    started = time.perf_counter()
    counts = baseline.export(dsn, Path(out_dir))
    seconds = time.perf_counter() - started
    size = sum(f.stat().st_size for f in Path(out_dir).iterdir())
    return {
        "rows": sum(counts.values()),
        "seconds": seconds,
        "detail": f"pandas.read_sql + CSV/JSON strings, {size_text(size)}",
        "extra": {"tables": counts},
    }


def size_text(size: int) -> str:
    return f"{size / 2**20:,.1f} MiB" if size >= 2**20 else f"{size / 2**10:,.0f} KiB"


STAGES: dict[str, Callable[..., dict]] = {
    "generate": generate,
    "extract": extract,
    "load": load,
    "transform": transform,
    "baseline_generate": baseline_generate,
    "baseline_export": baseline_export,
}


def main(argv: list[str]) -> None:
    stage, params, result_file = argv
    result = STAGES[stage](**json.loads(params))
    Path(result_file).write_text(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
