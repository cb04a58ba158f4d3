"""Right after `pulumi up` Snowflake may not yet be able to assume the lake's IAM role (IAM propagation takes
10-30 s). The loader waits that out: a COPY failing with "Error assuming AWS_ROLE" is rolled back and retried
with backoff, and nothing is lost or loaded twice.

fakesnow (DuckDB) has no IAM, so the failure is injected: the loader's statement runner raises the connector's own
ProgrammingError, with Snowflake's message, for the first COPY statements; everything else runs for real.
"""

from __future__ import annotations

import pytest
from snowflake.connector.errors import ProgrammingError

from pipeline.errors import ShopstreamError
from pipeline.lake import Lake
from pipeline.load import retry
from pipeline.load import snowflake as loader
from pipeline.load.snowflake import load_snowflake
from tests.cloud import test_snowflake_load as loader_tests
from tests.cloud.test_snowflake_load import DAY_1, publish, query
from tests.helpers.cloud import sample_table

cloud_settings = loader_tests.cloud_settings  # a fresh stack's Snowflake objects on fakesnow, lake on disk

ROLE_ERROR = (
    "Error assuming AWS_ROLE:\nUser: arn:aws:sts::123456789012:assumed-role/x is not authorized to perform: "
    "sts:AssumeRole on resource: arn:aws:iam::123456789012:role/shopstream-fall2026-alice-snowflake-lake"
)


@pytest.fixture
def copy_fails(monkeypatch: pytest.MonkeyPatch):
    """Make the first N COPY statements fail as Snowflake does while the role propagates; record the waits."""
    state = {"failures_left": 0, "copies": 0, "sleeps": []}
    real_call = loader._Runner.__call__

    def call(self, statement: str, params=None):
        if statement.lstrip().upper().startswith("COPY INTO"):
            state["copies"] += 1
            if state["failures_left"] > 0:
                state["failures_left"] -= 1
                raise ProgrammingError(msg=ROLE_ERROR, errno=3073)
        return real_call(self, statement, params)

    monkeypatch.setattr(loader._Runner, "__call__", call)
    monkeypatch.setattr(retry.time, "sleep", state["sleeps"].append)
    return state


def test_copy_waits_for_the_role_then_loads_each_row_once(cloud_settings, copy_fails) -> None:
    lake = Lake.from_settings(cloud_settings.lake)
    publish(lake, DAY_1, {"users": sample_table("users", 4)})
    copy_fails["failures_left"] = 3
    notes: list[str] = []

    report = load_snowflake(cloud_settings, DAY_1, lake, progress=lambda note, *_: notes.append(note), tables=["users"])

    assert copy_fails["sleeps"] == [2.0, 4.0, 8.0]  # exponential backoff
    assert copy_fails["copies"] == 4
    assert report.rows_loaded == 4 and report.bad_rows == []
    database = cloud_settings.warehouse.database
    assert query(cloud_settings, f"SELECT COUNT(*) FROM {database}.RAW.USERS") == [(4,)]
    assert sum("lake role not assumable yet" in note for note in notes) == 3


def test_a_role_that_never_becomes_assumable_stops_with_one_clear_line(cloud_settings, copy_fails) -> None:
    lake = Lake.from_settings(cloud_settings.lake)
    publish(lake, DAY_1, {"users": sample_table("users", 4)})
    copy_fails["failures_left"] = 100

    with pytest.raises(ShopstreamError) as error:
        load_snowflake(cloud_settings, DAY_1, lake, tables=["users"])

    message = str(error.value)
    assert "\n" not in message and "still cannot assume the lake's IAM role after 6 tries over 62 s" in message
    assert "trust policy" in message
    assert len(copy_fails["sleeps"]) == 5
    database = cloud_settings.warehouse.database
    assert query(cloud_settings, f"SELECT COUNT(*) FROM {database}.RAW.USERS") == [(0,)]  # nothing half-loaded


def test_other_errors_are_not_retried() -> None:
    calls: list[int] = []

    def fails() -> None:
        calls.append(1)
        raise ProgrammingError(msg="SQL compilation error: Stage 'X' does not exist", errno=2003)

    with pytest.raises(ProgrammingError):
        retry.retry_while_role_propagates(fails, "COPY", sleep=lambda _: None)
    assert calls == [1]
