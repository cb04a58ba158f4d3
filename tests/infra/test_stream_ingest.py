"""Snowpipe auto-ingest of the stream prefix under Pulumi's mocks: one auto-ingest pipe per stream table on the
stack's stage, one bucket notification to the pipes' queue filtered to the stream prefix, least-privilege grants,
and the RAW tables the pipes copy into, created before them with the columns the stream writes."""

from __future__ import annotations

import pytest

from pipeline.extract.schemas import TABLE_SCHEMAS
from pipeline.load.snowflake_sql import create_raw_table, snowflake_type
from pipeline.naming import StackNames
from pipeline.stream.tables import STREAM_TABLES, to_arrow
from tests.helpers.infra import COHORT, stack_config
from tests.infra.program import AWS_ACCOUNT_ID, Declared, ProgramRun, ProviderMocks, run_program

PIPE = "snowflake:index/execute:Execute"
NOTIFICATION = "aws:s3/bucketNotification:BucketNotification"
GRANT = "snowflake:index/grantPrivilegesToAccountRole:GrantPrivilegesToAccountRole"
CAROL = StackNames("carol", COHORT, AWS_ACCOUNT_ID)
QUEUE = "arn:aws:sqs:eu-west-1:999999999999:sf-snowpipe-EXAMPLE"


@pytest.fixture(scope="module")
def carol() -> ProgramRun:
    """A stack whose mocked Snowflake provider reports the pipes' notification channel, as the real one does."""
    computed = ProviderMocks._computed

    def with_channel(typ: str, name: str, inputs: dict) -> dict:
        describe = [{"name": "STREAM", "notification_channel": QUEUE}]
        extra = {"queryResults": describe} if typ == PIPE else {}
        return {**computed(typ, name, inputs), **extra}

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ProviderMocks, "_computed", staticmethod(with_channel))
        return run_program("carol", stack_config(owner="carol"))


def test_one_auto_ingest_pipe_per_stream_table_copies_from_the_stage(carol: ProgramRun):
    names = CAROL
    declared = [d.inputs for d in carol.of_type(PIPE) if d.inputs["revert"].startswith("DROP PIPE")]
    pipes = {pipe["revert"].rsplit(".", 1)[1]: pipe for pipe in declared}
    assert len(declared) == len(STREAM_TABLES)
    assert set(pipes) == {f"STREAM_{table.upper()}" for table in STREAM_TABLES}
    for table in STREAM_TABLES:
        pipe = pipes[f"STREAM_{table.upper()}"]
        qualified = f"{names.database}.RAW.STREAM_{table.upper()}"
        statement = pipe["execute"]
        assert statement.startswith(f"CREATE PIPE {qualified} AUTO_INGEST = TRUE")
        assert f" AS COPY INTO {names.database}.RAW.{table.upper()} FROM @" in statement
        assert f"/stream/{table}/ " in statement  # the stage points at raw/: its stream prefix, this table only
        assert "MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE" in statement
        assert "_SOURCE_FILE = METADATA$FILENAME" in statement
        assert pipe["revert"] == f"DROP PIPE IF EXISTS {qualified}"
        assert pipe["query"] == f"DESCRIBE PIPE {qualified}"


def test_one_bucket_notification_sends_stream_parquet_files_to_the_pipes_queue(carol: ProgramRun):
    notification = carol.one(NOTIFICATION)  # S3 keeps one notification configuration per bucket
    assert notification.inputs["bucket"] == CAROL.bucket
    (queue,) = notification.inputs["queues"]
    assert queue["queueArn"] == QUEUE
    assert queue["events"] == ["s3:ObjectCreated:*"]
    assert queue["filterPrefix"] == "raw/stream/"
    assert queue["filterSuffix"] == ".parquet"
    assert not notification.inputs.get("topics") and not notification.inputs.get("lambdaFunctions")


def test_the_student_role_may_monitor_and_operate_its_pipes_only(carol: ProgramRun):
    pipe_grants = [
        grant.inputs
        for grant in carol.of_type(GRANT)
        if grant.inputs.get("onSchemaObject", {}).get("objectType") == "PIPE"
    ]
    assert len(pipe_grants) == len(STREAM_TABLES)
    for grant in pipe_grants:
        assert grant["accountRoleName"] == CAROL.role
        assert sorted(grant["privileges"]) == ["MONITOR", "OPERATE"]


def _stream_tables(run: ProgramRun) -> dict[str, Declared]:
    """The Executes that create the RAW stream tables, by table."""
    return {table: run.named(f"stream-raw-{table.replace('_', '-')}") for table in STREAM_TABLES}


def _pipe(run: ProgramRun, table: str) -> Declared:
    return run.named(f"stream-pipe-{table.replace('_', '-')}")


def _grant(run: ProgramRun, table: str) -> Declared:
    return run.named(f"stream-raw-{table.replace('_', '-')}-grant")


def _columns(ddl: str) -> list[tuple[str, str]]:
    """(name, type) of each column of a CREATE TABLE statement."""
    body = ddl.split("(", 1)[1].rsplit(")", 1)[0]
    return [tuple(line.strip().rstrip(",").split(" ", 1)) for line in body.strip().splitlines()]


def test_the_pipes_depend_on_the_raw_tables_the_program_creates(carol: ProgramRun):
    """Snowflake refuses CREATE PIPE on a missing table: each pipe waits for its table and the table's grant."""
    for table, created in _stream_tables(carol).items():
        grant = _grant(carol, table)
        pipe = _pipe(carol, table)
        assert pipe.inputs["execute"].startswith(f"CREATE PIPE {CAROL.database}.RAW.STREAM_{table.upper()} ")
        assert pipe.registration is not None and grant.registration is not None
        assert {created.urn, grant.urn} <= set(pipe.registration.dependencies), table
        assert created.urn in grant.registration.dependencies  # granted once the table exists
        assert created.inputs["revert"] == "SELECT 1"  # removing it never drops rows the nightly load put there


def test_the_raw_stream_tables_have_the_columns_the_stream_writes(carol: ProgramRun):
    """Columns and types are those of the Parquet files the stream publishes (Snowpipe copies by column name) plus
    the two metadata columns the pipe stamps; for the nightly tables, the exact DDL the nightly loader runs."""
    for table, created in _stream_tables(carol).items():
        ddl = created.inputs["execute"]
        assert ddl.startswith(f"CREATE TABLE IF NOT EXISTS {CAROL.database}.RAW.{table.upper()} (")
        written = to_arrow(table, []).schema  # what capture_batch writes for this table
        expected = [(field.name.upper(), snowflake_type(field.type)) for field in written]
        assert _columns(ddl) == [*expected, ("_SOURCE_FILE", "VARCHAR"), ("_LOADED_AT", "TIMESTAMP_NTZ")]
        if table in TABLE_SCHEMAS:
            assert ddl == create_raw_table(table, TABLE_SCHEMAS[table], CAROL.database)
        metadata = "INCLUDE_METADATA = (_SOURCE_FILE = METADATA$FILENAME, _LOADED_AT = METADATA$START_SCAN_TIME)"
        assert metadata in _pipe(carol, table).inputs["execute"]


def test_the_student_role_may_load_into_the_raw_stream_tables_it_did_not_create(carol: ProgramRun):
    """COPY (SELECT, INSERT), stamping load metadata (UPDATE), unload and erasure (DELETE); no ownership, no DDL."""
    for table in STREAM_TABLES:
        grant = _grant(carol, table)
        assert grant.type == GRANT
        assert grant.inputs["accountRoleName"] == CAROL.role
        assert sorted(grant.inputs["privileges"]) == ["DELETE", "INSERT", "SELECT", "UPDATE"]
        assert grant.inputs["onSchemaObject"] == {
            "objectType": "TABLE",
            "objectName": f'"{CAROL.database}"."RAW"."{table.upper()}"',
        }
