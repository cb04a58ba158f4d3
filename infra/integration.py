"""Snowflake reads the lake through a storage integration and an IAM role, created in one `pulumi up`.

The role's ARN is known before the role exists (account id + fixed name), so the integration is created first;
the role then trusts the integration's own IAM user and external id, read from its `describe_outputs`.
ACCOUNTADMIN creates the integration and lends SYSADMIN its USAGE, so SYSADMIN owns the stage and file formats.
A new IAM role takes 10-30 s before Snowflake can assume it: the loader retries that error (pipeline/load).
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pulumi_snowflake as snowflake

from infra import iam_documents
from infra.providers import SnowflakeProviders, fixed_name
from infra.warehouse import ADMIN_PARENT_ROLE, Warehouse
from pipeline.naming import StackNames


def _object_name(qualified: str) -> str:
    """LAKE_STAGE from SHOPSTREAM_DEV.RAW.LAKE_STAGE: Snowflake resources take database, schema and name apart."""
    return qualified.rsplit(".", 1)[-1]


class LakeIntegration(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        names: StackNames,
        bucket: aws.s3.Bucket,
        warehouse: Warehouse,
        aws_provider: aws.Provider,
        snowflake_providers: SnowflakeProviders,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("shopstream:infra:LakeIntegration", name, None, opts)
        sysadmin = snowflake_providers.sysadmin
        invoke = pulumi.InvokeOutputOptions(parent=self, provider=aws_provider)
        account_id = aws.get_caller_identity_output(opts=invoke).account_id
        partition = aws.get_partition_output(opts=invoke).partition
        self.role_arn = pulumi.Output.concat("arn:", partition, ":iam::", account_id, ":role/", names.iam_role)
        self.raw_location = pulumi.Output.concat("s3://", bucket.bucket, "/", iam_documents.RAW_PREFIX)

        self.storage_integration = snowflake.StorageIntegrationAws(
            f"{name}-storage-integration",
            name=names.storage_integration,
            enabled=True,
            storage_provider="S3",
            storage_aws_role_arn=self.role_arn,
            storage_allowed_locations=[self.raw_location],
            comment=f"ShopStream stack {names.qualified}: read the raw lake",
            opts=fixed_name(self, snowflake_providers.accountadmin),
        )
        self.integration_usage = snowflake.GrantPrivilegesToAccountRole(
            f"{name}-integration-usage",
            account_role_name=ADMIN_PARENT_ROLE,
            privileges=["USAGE"],
            on_account_object=snowflake.GrantPrivilegesToAccountRoleOnAccountObjectArgs(
                object_type="INTEGRATION", object_name=self.storage_integration.name
            ),
            opts=pulumi.ResourceOptions(parent=self, provider=snowflake_providers.securityadmin),
        )
        description = self.storage_integration.describe_outputs.apply(lambda outputs: outputs[0])
        self.role = aws.iam.Role(
            f"{name}-role",
            name=names.iam_role,
            assume_role_policy=pulumi.Output.all(description.iam_user_arn, description.external_id).apply(
                lambda ids: json.dumps(iam_documents.snowflake_trust(ids[0], ids[1]))
            ),
            opts=fixed_name(self, aws_provider),
        )
        self.role_policy = aws.iam.RolePolicy(
            f"{name}-read-raw",
            role=self.role.name,
            policy=bucket.arn.apply(lambda arn: json.dumps(iam_documents.snowflake_read_raw(arn))),
            opts=pulumi.ResourceOptions(parent=self, provider=aws_provider),
        )

        raw = warehouse.schemas["RAW"]
        self.parquet_format = snowflake.FileFormatParquet(
            f"{name}-parquet-format",
            database=warehouse.database.name,
            schema=raw.name,
            name=_object_name(names.parquet_format),
            opts=fixed_name(self, sysadmin),
        )
        self.csv_format = snowflake.FileFormatCsv(
            f"{name}-csv-format",
            database=warehouse.database.name,
            schema=raw.name,
            name=_object_name(names.csv_format),
            skip_header=1,
            field_optionally_enclosed_by='"',
            empty_field_as_null="true",
            opts=fixed_name(self, sysadmin),
        )
        # The stage is usable only once the role exists and may read: depend on both, not just on the integration.
        # A recreated integration breaks the stages that use it, so the stage is replaced with it.
        self.stage = snowflake.StageExternalS3(
            f"{name}-stage",
            database=warehouse.database.name,
            schema=raw.name,
            name=_object_name(names.stage),
            url=self.raw_location,
            storage_integration=self.storage_integration.name,
            file_format=snowflake.StageExternalS3FileFormatArgs(format_name=self.parquet_format.fully_qualified_name),
            comment=f"ShopStream stack {names.qualified}: raw zone of the lake",
            opts=fixed_name(
                self,
                sysadmin,
                depends_on=[self.role, self.role_policy, self.integration_usage],
                replace_with=[self.storage_integration],
            ),
        )
        self.grants = [
            snowflake.GrantPrivilegesToAccountRole(
                f"{name}-grant-{label}",
                account_role_name=warehouse.role.name,
                privileges=["USAGE"],
                on_schema_object=snowflake.GrantPrivilegesToAccountRoleOnSchemaObjectArgs(
                    object_type=object_type, object_name=resource.fully_qualified_name
                ),
                opts=pulumi.ResourceOptions(parent=self, provider=snowflake_providers.securityadmin),
            )
            for label, object_type, resource in (
                ("stage", "STAGE", self.stage),
                ("parquet-format", "FILE FORMAT", self.parquet_format),
                ("csv-format", "FILE FORMAT", self.csv_format),
            )
        ]
        self.register_outputs({"role_arn": self.role.arn, "stage": self.stage.fully_qualified_name})
