"""Snowpipe auto-ingest of the stream prefix under Pulumi's mocks: one auto-ingest pipe per stream table on the
stack's stage, one bucket notification to the pipes' queue filtered to the stream prefix, least-privilege grants."""

from __future__ import annotations

import pytest

from pipeline.naming import StackNames
from pipeline.stream.tables import STREAM_TABLES
from tests.infra.conftest import SNOWFLAKE_ACCOUNT
from tests.infra.program import ProgramRun, ProviderMocks, run_program

PIPE = "snowflake:index/pipe:Pipe"
NOTIFICATION = "aws:s3/bucketNotification:BucketNotification"
GRANT = "snowflake:index/grantPrivilegesToAccountRole:GrantPrivilegesToAccountRole"
QUEUE = "arn:aws:sqs:eu-west-1:999999999999:sf-snowpipe-EXAMPLE"


@pytest.fixture(scope="module")
def carol() -> ProgramRun:
    """A stack whose mocked Snowflake provider reports the pipes' notification channel, as the real one does."""
    computed = ProviderMocks._computed

    def with_channel(typ: str, name: str, inputs: dict) -> dict:
        extra = {"notificationChannel": QUEUE} if typ == PIPE else {}
        return {**computed(typ, name, inputs), **extra}

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ProviderMocks, "_computed", staticmethod(with_channel))
        return run_program("carol", {**SNOWFLAKE_ACCOUNT, "shopstream:owner": "carol@example.edu"})


def test_one_auto_ingest_pipe_per_stream_table_copies_from_the_stage(carol: ProgramRun):
    names = StackNames("carol")
    pipes = {pipe.inputs["name"]: pipe.inputs for pipe in carol.of_type(PIPE)}
    assert set(pipes) == {f"STREAM_{table.upper()}" for table in STREAM_TABLES}
    for table in STREAM_TABLES:
        pipe = pipes[f"STREAM_{table.upper()}"]
        assert pipe["autoIngest"] is True
        assert pipe["database"] == names.database and pipe["schema"] == "RAW"
        statement = pipe["copyStatement"]
        assert statement.startswith(f"COPY INTO {names.database}.RAW.{table.upper()} FROM @")
        assert f"/stream/{table}/ " in statement  # the stage points at raw/: its stream prefix, this table only
        assert "MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE" in statement
        assert "_SOURCE_FILE = METADATA$FILENAME" in statement


def test_one_bucket_notification_sends_stream_parquet_files_to_the_pipes_queue(carol: ProgramRun):
    notification = carol.one(NOTIFICATION)  # S3 keeps one notification configuration per bucket
    assert notification.inputs["bucket"] == StackNames("carol").bucket
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
        assert grant["accountRoleName"] == StackNames("carol").role
        assert sorted(grant["privileges"]) == ["MONITOR", "OPERATE"]
