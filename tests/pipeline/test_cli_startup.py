"""The CLI starts without the road's heavy libraries: `shopstream --help`, a typo or `status` of a missing stack
answer in well under a second because Arrow, DuckDB, numpy, psycopg, pandas and dbt load only in the command that
needs them. A module-level import of any of them in a module the CLI imports at start-up fails this test."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("pyarrow", "duckdb", "numpy", "pandas", "psycopg", "dbt", "adbc_driver_manager", "sklearn")

PROBE = """
import sys
import pipeline.cli
print(",".join(sorted({name.split(".")[0] for name in sys.modules} & set(sys.argv[1].split(",")))))
"""


def test_the_cli_imports_no_heavy_library_at_start_up() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", PROBE, ",".join(HEAVY)], capture_output=True, text=True, check=True
    ).stdout.strip()

    assert loaded == "", f"imported when the CLI starts: {loaded}"
