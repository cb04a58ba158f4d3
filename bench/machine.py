"""What the numbers were measured on: hardware, load, and the versions of every engine in the road."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import psutil

PACKAGES = ("duckdb", "dbt-core", "dbt-duckdb", "pyarrow", "adbc-driver-postgresql", "psycopg", "pandas", "faker")


def describe_machine() -> dict[str, str]:
    """Label → value, in the order the report prints them (PostgreSQL's version is added by the harness)."""
    memory = psutil.virtual_memory()
    info = {
        "Date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "CPU": cpu_model(),
        "Cores": f"{psutil.cpu_count(logical=False) or '?'} physical, {os.cpu_count()} logical",
        "RAM": f"{memory.total / 2**30:.1f} GiB ({memory.available / 2**30:.1f} GiB available at start)",
        "Load average at start (1/5/15 min)": load_average(),
        "OS": platform.platform(terse=True),
        "Python": platform.python_version(),
    }
    for package in PACKAGES:
        info[package] = _version(package)
    return info


def load_average() -> str:
    """The machine is shared: the load around the run says how much of it the benchmark had."""
    if not hasattr(os, "getloadavg"):
        return "n/a"
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"
