"""Fixtures for the dashboard tests: the session's loaded stack with its marts built by dbt (real PostgreSQL,
DuckDB and dbt), the app driven by Streamlit's AppTest, and independent SQL on the warehouse to check its figures.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import ENV_OUTPUTS, ENV_STACK
from pipeline.settings import Settings
from pipeline.transform import build

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
PAGES = ("views/overview.py", "views/products.py", "views/customers.py", "views/funnel.py")


@pytest.fixture(scope="session")
def marts_stack(loaded_stack) -> Settings:
    """The loaded stack after one `dbt build` per session: RAW → STAGING → CORE → MARTS."""
    report = build(loaded_stack.settings)
    assert report.ok, report.failures
    return loaded_stack.settings


@pytest.fixture
def serve_stack(monkeypatch: pytest.MonkeyPatch):
    """Point the app at a stack, as `shopstream dashboard --stack NAME` does."""

    def serve(stack: str) -> None:
        monkeypatch.setenv(ENV_STACK, stack)
        monkeypatch.delenv(ENV_OUTPUTS, raising=False)

    return serve


@pytest.fixture
def app(marts_stack: Settings, serve_stack) -> Iterator:
    """Factory: the dashboard on the built stack, run on one page."""
    serve_stack(marts_stack.stack)

    def open_page(page: str = PAGES[0]) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=60)
        at.run()
        if page != PAGES[0]:
            at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    yield open_page


def warehouse(settings: Settings, sql: str, params: list | tuple = ()) -> list[tuple]:
    """Independent SQL on the stack's DuckDB warehouse (read-only, closed at once)."""
    con = duckdb.connect(str(settings.warehouse.path), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def number(text: str) -> float:
    """The number a formatted card shows: '€1,234.50' → 1234.5, '+6.3 %' → 0.063, '1,234' → 1234."""
    value = float(re.sub(r"[^\d.\-+]", "", text))
    return value / 100 if text.strip().endswith("%") else value


def metrics(at: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}


def _decode(values: object) -> list:
    """Plotly's JSON keeps numeric arrays as base64 'bdata'; turn them back into a list."""
    if isinstance(values, dict) and "bdata" in values:
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"])).tolist()
    return list(values)


def chart(at: AppTest, title: str) -> list[dict]:
    """The traces of the Plotly chart with this title, as {'name', 'x', 'y', 'labels', 'values'} lists."""
    import json

    for element in at.get("plotly_chart"):
        spec = json.loads(element.proto.spec)
        if spec["layout"].get("title", {}).get("text") == title:
            return [
                {key: _decode(trace[key]) if key in trace else None for key in ("x", "y", "labels", "values")}
                | {"name": trace.get("name")}
                for trace in spec["data"]
            ]
    raise AssertionError(f"no chart titled {title!r}")
