"""Assemble one stack from its components and return its outputs (the `StackOutputs` contract)."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_snowflake as snowflake

from infra.course import classroom_extras
from infra.governance import Governance, merchant_ids_from_config
from infra.integration import LakeIntegration
from infra.lake import CostBudget, Lake, PipelineIdentity
from infra.providers import aws_provider, snowflake_providers
from infra.source import Source
from infra.stack_config import load_config
from infra.stream import StreamIngest
from infra.warehouse import DEFAULT_WAREHOUSE, Warehouse
from pipeline.naming import PROJECT, StackNames
from pipeline.variant import variant_seed


def build(stack: str | None = None) -> dict[str, pulumi.Input]:
    """Declare every resource of `stack` (default: the current Pulumi stack) and return the outputs to export."""
    stack = stack or pulumi.get_stack()
    config = load_config(stack)
    tags = {"project": PROJECT, "cohort": config.cohort, "stack": f"{config.cohort}-{stack}", "owner": config.owner}
    aws_admin = aws_provider(config.aws_region, tags)
    # The account id makes the bucket name globally unique; it is known at preview (an invoke, not a resource).
    account_id = aws.get_caller_identity(opts=pulumi.InvokeOptions(provider=aws_admin)).account_id
    names = StackNames(stack, cohort=config.cohort, aws_account_id=account_id)
    snowflake_admins = snowflake_providers(config.snowflake)

    lake = Lake("lake", names, aws_admin)
    identity = PipelineIdentity("pipeline", names, lake.bucket, aws_admin)
    CostBudget("cost", names, config.budget_usd, config.owner_email, aws_admin)
    warehouse = Warehouse("warehouse", names, config, snowflake_admins)
    integration = LakeIntegration("lake-integration", names, lake.bucket, warehouse, aws_admin, snowflake_admins)
    StreamIngest("stream", names, lake.bucket, warehouse, integration, aws_admin, snowflake_admins)
    Governance("governance", names, warehouse, snowflake_admins, merchant_ids_from_config())

    raw = warehouse.schemas["RAW"]
    outputs: dict[str, pulumi.Input] = {
        "stack": stack,
        "cohort": config.cohort,
        "lake_bucket": lake.bucket.bucket,
        "lake_uri": lake.uri,
        "aws_region": config.aws_region,
        "pipeline_access_key_id": identity.access_key_id,
        "pipeline_secret_access_key": identity.secret_access_key,
        "snowflake_account": config.snowflake_account,
        "snowflake_database": warehouse.database.name,
        "snowflake_schemas": {schema.lower(): resource.name for schema, resource in warehouse.schemas.items()},
        "snowflake_warehouses": {purpose: resource.name for purpose, resource in warehouse.warehouses.items()},
        "snowflake_role": warehouse.role.name,
        "snowflake_user": warehouse.user.name,
        "snowflake_default_warehouse": warehouse.warehouses[DEFAULT_WAREHOUSE].name,
        "snowflake_stage": _qualified(warehouse, raw, integration.stage.name),
        "snowflake_parquet_format": _qualified(warehouse, raw, integration.parquet_format.name),
        "snowflake_csv_format": _qualified(warehouse, raw, integration.csv_format.name),
        # The stack's demo-data variant; a classroom stack replaces it with its cohort's (config variantSeed).
        "variant_seed": variant_seed(stack),
    }
    if config.postgres is not None:
        source = Source("source", names, config.postgres)
        outputs["postgres_dsn"] = source.owner_dsn
        outputs["postgres_extractor_dsn"] = source.extractor_dsn
    outputs.update(classroom_extras(warehouse, snowflake_admins.securityadmin))
    return outputs


def _qualified(warehouse: Warehouse, schema: snowflake.Schema, name: pulumi.Output[str]) -> pulumi.Output[str]:
    """DATABASE.SCHEMA.OBJECT, unquoted, as the pipeline writes it in SQL."""
    return pulumi.Output.concat(warehouse.database.name, ".", schema.name, ".", name)
