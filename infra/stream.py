"""Snowpipe auto-ingest of the lake's stream prefix: one pipe per stream table, one bucket notification.

Every micro-batch file the stream publishes under `raw/stream/<table>/` fires an S3 event to the pipes' SQS queue;
Snowpipe then copies it into the RAW table with its file name and load time, the columns the local loader stamps.
Snowflake gives every auto-ingest pipe of an account and region the same queue, and S3 keeps exactly one
notification configuration per bucket, so the notification is declared here and nowhere else, filtered to the
stream prefix and Parquet files (the lake's `_tmp/` writes and the batch manifests never reach a pipe).

The pipes read through the stack's existing stage and storage integration, whose role already reads `raw/` only:
no new IAM permission is needed. The student role may watch and pause its pipes (MONITOR, OPERATE), not own them.

Snowflake refuses a pipe whose COPY names a table that does not exist, so the program creates the RAW stream tables
first (`CREATE TABLE IF NOT EXISTS`, the very DDL the loader runs: same columns, types and `_SOURCE_FILE`/`_LOADED_AT`)
and the pipes depend on them. A table the nightly load created already is left as it is. SYSADMIN owns a table it
creates (no ownership transfer: destroy needs no manual step); the student role gets the privileges its loader, its
erasure and dbt use on it.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_snowflake as snowflake

from infra.integration import LakeIntegration
from infra.providers import SnowflakeProviders, fixed_name
from infra.warehouse import Warehouse
from pipeline.load.snowflake_sql import create_raw_table
from pipeline.naming import StackNames
from pipeline.stream.tables import STREAM_PREFIX, STREAM_SCHEMAS, STREAM_TABLES

STREAM_EVENTS = ["s3:ObjectCreated:*"]
# Destroying the stream's tables must not drop rows the nightly load put in the same RAW tables: the revert does
# nothing, and `pulumi destroy` drops the tables with the stack's database.
KEEP_TABLE = "SELECT 1"
# What the student role's steps do to a RAW table it did not create: COPY (SELECT, INSERT), stamp the rows' load
# metadata (UPDATE), unload a file or erase a person (DELETE). Not ownership: SYSADMIN keeps it and drops it.
RAW_TABLE_PRIVILEGES = ["SELECT", "INSERT", "UPDATE", "DELETE"]


def pipe_name(table: str) -> str:
    return f"STREAM_{table.upper()}"


def copy_statement(raw_table: pulumi.Input[str], stage: pulumi.Input[str], table: str) -> pulumi.Output[str]:
    """COPY of one stream table's files, by column name, stamped like the local loader's rows."""
    stage_path = STREAM_PREFIX.removeprefix("raw/")  # the stage points at <lake>/raw/
    return pulumi.Output.concat(
        "COPY INTO ", raw_table, " FROM @", stage, f"/{stage_path}/{table}/ ",
        "FILE_FORMAT = (TYPE = PARQUET) MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE ",
        "INCLUDE_METADATA = (_SOURCE_FILE = METADATA$FILENAME, _LOADED_AT = METADATA$START_SCAN_TIME)",
    )  # fmt: skip


class StreamIngest(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        names: StackNames,
        bucket: aws.s3.Bucket,
        warehouse: Warehouse,
        integration: LakeIntegration,
        aws_provider: aws.Provider,
        snowflake_providers: SnowflakeProviders,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("shopstream:infra:StreamIngest", name, None, opts)
        raw = warehouse.schemas["RAW"]
        self.tables = {table: self._raw_table(name, table, warehouse, snowflake_providers) for table in STREAM_TABLES}
        self.pipes: dict[str, snowflake.Execute] = {}
        for table in STREAM_TABLES:
            # pulumi-snowflake's Pipe resource is still a preview feature; the program enables none, so the pipe is
            # declared as the statements that create, describe and drop it.
            pipe = pulumi.Output.concat(warehouse.database.name, ".", raw.name, ".", pipe_name(table))
            raw_table = pulumi.Output.concat(warehouse.database.name, ".", raw.name, ".", table.upper())
            self.pipes[table] = snowflake.Execute(
                f"{name}-pipe-{table.replace('_', '-')}",
                execute=pulumi.Output.concat(
                    "CREATE PIPE ",
                    pipe,
                    " AUTO_INGEST = TRUE",
                    f" COMMENT = 'ShopStream stack {names.qualified}: stream batches of {table}' AS ",
                    copy_statement(raw_table, integration.stage.fully_qualified_name, table),
                ),
                revert=pulumi.Output.concat("DROP PIPE IF EXISTS ", pipe),
                query=pulumi.Output.concat("DESCRIBE PIPE ", pipe),
                opts=pulumi.ResourceOptions(
                    parent=self, provider=snowflake_providers.sysadmin, depends_on=list(self.tables[table])
                ),
            )
        first_pipe = self.pipes[STREAM_TABLES[0]]
        self.notification_channel = first_pipe.query_results.apply(_notification_channel)
        self.notification = aws.s3.BucketNotification(
            f"{name}-notification",
            bucket=bucket.id,
            queues=[
                aws.s3.BucketNotificationQueueArgs(
                    id="snowpipe-stream",
                    queue_arn=self.notification_channel,
                    events=STREAM_EVENTS,
                    filter_prefix=f"{STREAM_PREFIX}/",
                    filter_suffix=".parquet",
                )
            ],
            opts=fixed_name(self, aws_provider, depends_on=list(self.pipes.values())),
        )
        self.grants = [
            snowflake.GrantPrivilegesToAccountRole(
                f"{name}-grant-pipe-{table.replace('_', '-')}",
                account_role_name=warehouse.role.name,
                privileges=["MONITOR", "OPERATE"],
                on_schema_object=snowflake.GrantPrivilegesToAccountRoleOnSchemaObjectArgs(
                    object_type="PIPE",
                    object_name=pulumi.Output.concat(
                        '"', warehouse.database.name, '"."', raw.name, '"."', pipe_name(table), '"'
                    ),
                ),
                opts=pulumi.ResourceOptions(parent=self, provider=snowflake_providers.securityadmin, depends_on=[pipe]),
            )
            for table, pipe in self.pipes.items()
        ]
        self.register_outputs({"notification_channel": self.notification_channel})

    def _raw_table(
        self, name: str, table: str, warehouse: Warehouse, providers: SnowflakeProviders
    ) -> tuple[snowflake.Execute, snowflake.GrantPrivilegesToAccountRole]:
        """RAW.<table> as the loader creates it, and what the student role's loader does with it."""
        label = f"{name}-raw-{table.replace('_', '-')}"
        raw = warehouse.schemas["RAW"]
        # An Execute, not snowflake.Table: the pinned provider gates its Table resource behind a preview flag.
        created = snowflake.Execute(
            label,
            execute=warehouse.database.name.apply(lambda db: create_raw_table(table, STREAM_SCHEMAS[table], db)),
            revert=KEEP_TABLE,
            opts=pulumi.ResourceOptions(parent=self, provider=providers.sysadmin, depends_on=[raw]),
        )
        granted = snowflake.GrantPrivilegesToAccountRole(
            f"{label}-grant",
            account_role_name=warehouse.role.name,
            privileges=RAW_TABLE_PRIVILEGES,
            on_schema_object=snowflake.GrantPrivilegesToAccountRoleOnSchemaObjectArgs(
                object_type="TABLE",
                object_name=pulumi.Output.concat('"', warehouse.database.name, '"."', raw.name, f'"."{table.upper()}"'),
            ),
            opts=pulumi.ResourceOptions(parent=self, provider=providers.securityadmin, depends_on=[created]),
        )
        return created, granted


def _notification_channel(rows: list[dict[str, str]] | None) -> str:
    """The SQS queue ARN from DESCRIBE PIPE (one row; column `notification_channel`)."""
    if not rows:
        return ""
    row = {key.lower(): value for key, value in rows[0].items()}
    return row.get("notification_channel", "")
