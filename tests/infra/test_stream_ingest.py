"""Snowpipe auto-ingest of the stream prefix under Pulumi's mocks: one auto-ingest pipe per stream table on the
stack's stage, one bucket notification to the pipes' queue filtered to the stream prefix, least-privilege grants."""

from __future__ import annotations

import pytest

from pipeline.naming import StackNames
from pipeline.stream.tables import STREAM_TABLES
from tests.helpers.infra import COHORT, stack_config
from tests.infra.program import AWS_ACCOUNT_ID, ProgramRun, ProviderMocks, run_program

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
