"""The naming module: one stack name → every name, valid for each service, disjoint across stacks."""

import re

import pytest

from pipeline.errors import ShopstreamError
from pipeline.lake_contract import part_key, partition_prefix, stage_path
from pipeline.naming import LAKE_PREFIXES, SOURCE_TABLES, StackNames, validate_cohort, validate_stack


def all_names(names: StackNames) -> set[str]:
    flat = {
        names.postgres_database,
        names.postgres_owner_role,
        names.postgres_extractor_role,
        names.bucket,
        names.iam_user,
        names.iam_role,
        names.database,
        names.role,
        names.resource_monitor,
        names.storage_integration,
        names.stage,
        names.parquet_format,
        names.csv_format,
    }
    return flat | set(names.warehouses.values())


def test_two_stacks_share_no_name():
    assert all_names(StackNames("alice")).isdisjoint(all_names(StackNames("bob")))


def test_hyphenated_stack_is_valid_everywhere():
    names = StackNames("team-7")
    assert names.database == "SHOPSTREAM_TEAM_7"
    assert names.postgres_database == "shopstream_team_7"
    assert names.bucket == "shopstream-team-7-lake"
    assert re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", names.bucket)
    assert len(names.iam_role) <= 64
    assert names.warehouses == {
        "loading": "SHOPSTREAM_TEAM_7_LOADING",
        "transform": "SHOPSTREAM_TEAM_7_TRANSFORM",
        "bi": "SHOPSTREAM_TEAM_7_BI",
    }


@pytest.mark.parametrize("bad", ["", "Alice", "7up", "a_b", "a--b", "a-", "x" * 25, "../etc"])
def test_invalid_stack_names_are_refused_with_advice(bad):
    with pytest.raises(ShopstreamError, match="invalid stack name"):
        validate_stack(bad)


def test_lake_layout_keeps_the_course_prefixes_and_stage_paths_are_relative_to_raw():
    assert set(LAKE_PREFIXES) == set(SOURCE_TABLES)
    assert partition_prefix("orders", "2026-01-31") == "raw/postgres/orders/dt=2026-01-31"
    assert partition_prefix("crm_contacts", "2026-01-31") == "raw/crm/dt=2026-01-31"
    assert stage_path(part_key("events", "2026-01-31")) == "events/dt=2026-01-31"
    assert StackNames("bob").stage == "SHOPSTREAM_BOB.RAW.LAKE_STAGE"


def cloud_names(names: StackNames) -> set[str]:
    return all_names(names) | {names.budget, names.student_user}


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("alice", "fall2026"), ("alice", "spring2027")),  # same student, two course runs
        (("b-c", "a"), ("c", "ab")),  # a separator inside the cohort could make these meet: it has none
        (("alice", None), ("alice", "fall2026")),  # a local stack and a cloud one
    ],
)
def test_cohorts_share_no_name(first, second):
    assert cloud_names(StackNames(*first)).isdisjoint(cloud_names(StackNames(*second)))


def test_cloud_names_carry_the_cohort_and_stay_within_limits():
    names = StackNames("x" * 24, "c" * 10, "123456789012")
    assert all("c" * 10 in name.lower() for name in cloud_names(names))
    assert len(names.iam_role) <= 64 and len(names.iam_user) <= 64
    assert re.fullmatch(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", names.bucket)
    assert len(names.postgres_extractor_role) <= 63  # PostgreSQL's identifier limit


def test_a_classroom_stack_carries_its_cohort_once():
    student = StackNames("fall26-alice", cohort="fall26", aws_account_id="123456789012")
    assert student.database == "SHOPSTREAM_FALL26_ALICE" and student.bucket_prefix == "shopstream-fall26-alice-lake"
    assert all_names(student) == all_names(StackNames("alice", cohort="fall26", aws_account_id="123456789012"))
    assert "FALL26_FALL26" not in student.student_user and "fall26-fall26" not in student.iam_role


def test_bucket_suffix_is_stable_and_depends_on_the_account():
    names = StackNames("alice", "fall2026", "123456789012")
    assert names.bucket == StackNames("alice", "fall2026", "123456789012").bucket
    assert re.fullmatch(r"shopstream-fall2026-alice-lake-[0-9a-f]{8}", names.bucket)
    assert names.bucket != StackNames("alice", "fall2026", "210987654321").bucket


def test_local_stacks_keep_their_short_names():
    names = StackNames("dev")
    assert (names.database, names.bucket, names.legacy_duckdb_file) == (
        "SHOPSTREAM_DEV",
        "shopstream-dev-lake",
        "shopstream_dev.duckdb",
    )


@pytest.mark.parametrize("bad", ["", "Fall", "2026", "fall-2026", "fall_2026", "a" * 11])
def test_invalid_cohorts_are_refused_with_advice(bad):
    with pytest.raises(ShopstreamError, match="invalid cohort"):
        validate_cohort(bad)
    with pytest.raises(ShopstreamError, match="invalid cohort"):
        StackNames("alice", bad)


def test_a_warehouse_named_after_its_stack_is_renamed_with_its_log(tmp_path, monkeypatch):
    """Earlier releases named a local stack's DuckDB file after the stack: the stack's next command renames it and its
    write-ahead log to the shared name (data kept); once a file of the shared name exists, nothing is renamed."""
    from pipeline.naming import DUCKDB_FILE
    from pipeline.settings import local_settings

    monkeypatch.setenv("SHOPSTREAM_HOME", str(tmp_path))
    folder = tmp_path / "dev"
    folder.mkdir()
    (folder / "shopstream_dev.duckdb").write_bytes(b"the warehouse")
    (folder / "shopstream_dev.duckdb.wal").write_bytes(b"its log")

    assert local_settings("dev").warehouse.path == folder / DUCKDB_FILE
    assert sorted(p.name for p in folder.iterdir()) == ["shopstream.duckdb", "shopstream.duckdb.wal"]
    assert (folder / "shopstream.duckdb").read_bytes() == b"the warehouse"
    assert (folder / "shopstream.duckdb.wal").read_bytes() == b"its log"

    (folder / "shopstream_dev.duckdb").write_bytes(b"an older copy")
    local_settings("dev")
    assert (folder / "shopstream.duckdb").read_bytes() == b"the warehouse"
    assert (folder / "shopstream_dev.duckdb").read_bytes() == b"an older copy"
