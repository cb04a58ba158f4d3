"""The Pulumi program under Pulumi's mock runtime (the engine and the cloud providers cannot run here).

The mocks in program.py compute what the providers would (ARNs, the integration's IAM user and external id,
secrets), so these tests check the resources' properties and the wiring between them.
"""

import json

import pytest
from pydantic import SecretStr

from infra.stream import pipe_name
from pipeline.errors import ConfigError
from pipeline.naming import LAKE_PREFIXES, WAREHOUSE_SCHEMAS, StackNames
from pipeline.settings import SECRET_OUTPUTS, StackOutputs, settings_from_outputs
from pipeline.stream.tables import STREAM_TABLES
from tests.infra.program import AWS_ACCOUNT_ID, ProgramRun, run_program

BUCKET = "aws:s3/bucket:Bucket"
ROLE = "aws:iam/role:Role"
INTEGRATION = "snowflake:index/storageIntegrationAws:StorageIntegrationAws"
WAREHOUSE = "snowflake:index/warehouse:Warehouse"
GRANT = "snowflake:index/grantPrivilegesToAccountRole:GrantPrivilegesToAccountRole"


def statements(policy_json: str) -> list[dict]:
    return json.loads(policy_json)["Statement"]


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


# -- lake -------------------------------------------------------------------------------------------------------
def test_lake_bucket_is_named_per_stack_tagged_and_emptied_on_destroy(alice: ProgramRun):
    bucket = alice.one(BUCKET)
    assert bucket.inputs["bucket"] == StackNames("alice").bucket
    assert bucket.inputs["forceDestroy"] is True
    assert bucket.inputs["tags"] == {"project": "shopstream", "stack": "alice", "owner": "alice@example.edu"}


def test_lake_bucket_is_encrypted_private_and_tls_only(alice: ProgramRun):
    bucket = alice.one(BUCKET).state["bucket"]
    encryption = alice.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    assert encryption.inputs["bucket"] == bucket
    assert encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    block = alice.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert block.inputs["bucket"] == bucket
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    assert all(block.inputs[flag] is True for flag in flags)
    (deny,) = statements(alice.one("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert set(deny["Resource"]) == {f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"}


def test_lake_prefixes_exist_as_empty_markers(alice: ProgramRun):
    markers = alice.of_type("aws:s3/bucketObjectv2:BucketObjectv2")
    assert {m.inputs["key"] for m in markers} == {f"{prefix}/" for prefix in LAKE_PREFIXES.values()}
    assert {"raw/postgres/orders/", "raw/events/", "raw/crm/"} <= {m.inputs["key"] for m in markers}
    assert all(m.inputs["bucket"] == "shopstream-alice-lake" and m.inputs["content"] == "" for m in markers)


# -- pipeline identity ------------------------------------------------------------------------------------------
def test_pipeline_user_may_only_use_its_own_bucket(alice: ProgramRun):
    user = alice.one("aws:iam/user:User")
    assert user.inputs["name"] == StackNames("alice").iam_user
    policy = alice.one("aws:iam/userPolicy:UserPolicy")
    assert policy.inputs["user"] == user.inputs["name"]
    bucket_arn = alice.one(BUCKET).state["arn"]
    granted = {
        (action, resource)
        for s in statements(policy.inputs["policy"])
        for action in as_list(s["Action"])
        for resource in as_list(s["Resource"])
    }
    assert ("s3:ListBucket", bucket_arn) in granted
    for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
        assert (action, f"{bucket_arn}/*") in granted
    assert {resource for _, resource in granted} == {bucket_arn, f"{bucket_arn}/*"}
    assert not alice.of_type("aws:iam/userPolicyAttachment:UserPolicyAttachment")  # no AmazonS3FullAccess


def test_access_key_belongs_to_pipeline_user_and_its_secret_is_a_secret_output(alice: ProgramRun):
    key = alice.one("aws:iam/accessKey:AccessKey")
    assert key.inputs["user"] == StackNames("alice").iam_user
    assert alice.outputs["pipeline_secret_access_key"] == key.state["secret"]
    assert alice.outputs["pipeline_access_key_id"].startswith("AKIA")
    assert "pipeline_secret_access_key" in alice.secret_outputs


# -- warehouse --------------------------------------------------------------------------------------------------
def test_database_and_schemas_per_stack(alice: ProgramRun):
    names = StackNames("alice")
    database = alice.one("snowflake:index/database:Database")
    assert database.inputs["name"] == names.database
    schemas = alice.of_type("snowflake:index/schema:Schema")
    assert sorted(s.inputs["name"] for s in schemas) == sorted(WAREHOUSE_SCHEMAS)
    assert {s.inputs["database"] for s in schemas} == {names.database}


def test_warehouses_are_small_suspending_and_guarded_by_the_resource_monitor(alice: ProgramRun, bob: ProgramRun):
    names = StackNames("alice")
    monitor = alice.one("snowflake:index/resourceMonitor:ResourceMonitor")
    assert monitor.inputs["name"] == names.resource_monitor
    assert monitor.inputs["creditQuota"] == 5  # default: small
    assert monitor.inputs["suspendTrigger"] == 100
    assert bob.one("snowflake:index/resourceMonitor:ResourceMonitor").inputs["creditQuota"] == 2  # from config
    warehouses = {w.inputs["name"]: w.inputs for w in alice.of_type(WAREHOUSE)}
    assert set(warehouses) == set(names.warehouses.values())
    sizes = {purpose: warehouses[name]["warehouseSize"] for purpose, name in names.warehouses.items()}
    assert sizes == {"loading": "XSMALL", "transform": "SMALL", "bi": "XSMALL"}
    for warehouse in warehouses.values():
        assert warehouse["autoSuspend"] == 60
        assert warehouse["autoResume"] == "true"
        assert warehouse["initiallySuspended"] is True
        assert warehouse["resourceMonitor"] == names.resource_monitor


def test_student_role_is_granted_only_its_own_database_schemas_and_warehouses(alice: ProgramRun):
    names = StackNames("alice")
    role = alice.one("snowflake:index/accountRole:AccountRole")
    assert role.inputs["name"] == names.role
    grants = alice.of_type(GRANT)
    assert {g.inputs["accountRoleName"] for g in grants} == {names.role}
    on_objects = {
        (g.inputs["onAccountObject"]["objectType"], g.inputs["onAccountObject"]["objectName"]): g.inputs["privileges"]
        for g in grants
        if "onAccountObject" in g.inputs
    }
    assert set(on_objects) == {("DATABASE", names.database)} | {("WAREHOUSE", w) for w in names.warehouses.values()}
    assert set(on_objects[("DATABASE", names.database)]) == {"USAGE", "CREATE SCHEMA"}
    on_schemas = {g.inputs["onSchema"]["schemaName"]: g.inputs["privileges"] for g in grants if "onSchema" in g.inputs}
    assert set(on_schemas) == {f'"{names.database}"."{schema}"' for schema in WAREHOUSE_SCHEMAS}
    assert all({"USAGE", "CREATE TABLE", "CREATE VIEW"} <= set(p) for p in on_schemas.values())
    on_schema_objects = {g.inputs["onSchemaObject"]["objectName"] for g in grants if "onSchemaObject" in g.inputs}
    assert all(name.startswith(f'"{names.database}"."RAW".') for name in on_schema_objects)
    users = {g.inputs.get("userName") for g in alice.of_type("snowflake:index/grantAccountRole:GrantAccountRole")}
    assert "ALICE" in users


def test_destroy_needs_no_manual_step(alice: ProgramRun):
    """No ownership transfer: objects stay owned by the provider's role, which can drop them with their data."""
    types = {d.type for d in alice.declared}
    assert not any("grantOwnership" in t for t in types)
    assert alice.one(BUCKET).inputs["forceDestroy"] is True


# -- lake integration -------------------------------------------------------------------------------------------
def test_integration_role_arn_is_the_created_role(alice: ProgramRun):
    integration = alice.one(INTEGRATION)
    role = alice.one(ROLE)
    assert role.inputs["name"] == StackNames("alice").iam_role
    assert integration.inputs["storageAwsRoleArn"] == role.state["arn"]
    assert role.state["arn"] == f"arn:aws:iam::{AWS_ACCOUNT_ID}:role/{StackNames('alice').iam_role}"
    assert "aws:index/getCallerIdentity:getCallerIdentity" in alice.calls


def test_role_trusts_the_integrations_iam_user_and_external_id(alice: ProgramRun):
    described = alice.one(INTEGRATION).state["describeOutputs"][0]
    (trust,) = statements(alice.one(ROLE).inputs["assumeRolePolicy"])
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Principal"] == {"AWS": described["iamUserArn"]}
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": described["externalId"]}}


def test_integration_and_role_reach_only_the_raw_zone_of_this_bucket(alice: ProgramRun):
    bucket = alice.one(BUCKET).state
    integration = alice.one(INTEGRATION).inputs
    assert integration["name"] == StackNames("alice").storage_integration
    assert integration["storageProvider"] == "S3" and integration["enabled"] is True
    assert integration["storageAllowedLocations"] == [f"s3://{bucket['bucket']}/raw/"]
    read = alice.one("aws:iam/rolePolicy:RolePolicy")
    assert read.inputs["role"] == StackNames("alice").iam_role
    actions = {a for s in statements(read.inputs["policy"]) for a in as_list(s["Action"])}
    assert actions <= {"s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:GetBucketLocation"}
    resources = {r for s in statements(read.inputs["policy"]) for r in as_list(s["Resource"])}
    assert resources == {bucket["arn"], f"{bucket['arn']}/raw/*"}


def test_external_stage_and_file_formats_live_in_raw(alice: ProgramRun):
    names = StackNames("alice")
    stage = alice.one("snowflake:index/stageExternalS3:StageExternalS3").inputs
    assert f"{stage['database']}.{stage['schema']}.{stage['name']}" == names.stage
    assert stage["url"] == "s3://shopstream-alice-lake/raw/"
    assert stage["storageIntegration"] == names.storage_integration
    parquet = alice.one("snowflake:index/fileFormatParquet:FileFormatParquet").inputs
    csv = alice.one("snowflake:index/fileFormatCsv:FileFormatCsv").inputs
    assert f"{parquet['database']}.{parquet['schema']}.{parquet['name']}" == names.parquet_format
    assert f"{csv['database']}.{csv['schema']}.{csv['name']}" == names.csv_format


# -- optional source ---------------------------------------------------------------------------------------------
def test_postgres_source_has_owner_and_read_only_extractor_with_random_passwords(alice: ProgramRun):
    names = StackNames("alice")
    roles = {r.inputs["name"]: r for r in alice.of_type("postgresql:index/role:Role")}
    assert set(roles) == {names.postgres_owner_role, names.postgres_extractor_role}
    passwords = {p.state["result"] for p in alice.of_type("random:index/randomPassword:RandomPassword")}
    assert {r.inputs["password"] for r in roles.values()} == passwords and len(passwords) == 2
    assert all("password" in r.secret_inputs for r in roles.values())
    database = alice.one("postgresql:index/database:Database").inputs
    assert database == {"name": names.postgres_database, "owner": names.postgres_owner_role}
    extractor_privileges = {
        (g.inputs["objectType"], p)
        for g in alice.of_type("postgresql:index/grant:Grant")
        if g.inputs["role"] == names.postgres_extractor_role
        for p in g.inputs["privileges"]
    }
    assert extractor_privileges == {("database", "CONNECT"), ("schema", "USAGE"), ("table", "SELECT")}
    future = alice.one("postgresql:index/defaultPrivileges:DefaultPrivileges").inputs
    assert (future["owner"], future["role"], future["privileges"]) == (
        names.postgres_owner_role,
        names.postgres_extractor_role,
        ["SELECT"],
    )
    owner_password = roles[names.postgres_owner_role].inputs["password"]
    assert alice.outputs["postgres_dsn"] == (
        f"postgresql://{names.postgres_owner_role}:{owner_password}@db.example.edu:5432/{names.postgres_database}?sslmode=require"
    )


def test_postgres_source_is_optional(bob: ProgramRun):
    assert not [d for d in bob.declared if d.type.startswith(("postgresql:", "random:"))]
    assert "postgres_dsn" not in bob.outputs


# -- stacks side by side and outputs ----------------------------------------------------------------------------------
def physical_names(run: ProgramRun) -> set[str]:
    """The names each resource really has in AWS, Snowflake or PostgreSQL."""
    return {resource.inputs[key] for resource in run.declared for key in ("name", "bucket") if key in resource.inputs}


def test_two_stacks_never_share_a_name(alice: ProgramRun, bob: ProgramRun):
    # Schema names repeat by design (RAW in each database); every other physical name is the stack's own.
    shared = physical_names(alice) & physical_names(bob)
    pipes = {pipe_name(table) for table in STREAM_TABLES}  # schema objects, like the stage
    assert shared == set(WAREHOUSE_SCHEMAS) | {"LAKE_STAGE", "PARQUET_FORMAT", "CSV_FORMAT"} | pipes
    assert alice.outputs["snowflake_database"] != bob.outputs["snowflake_database"]
    assert alice.outputs["lake_bucket"] != bob.outputs["lake_bucket"]


def test_org_prefixes_the_bucket_and_bad_config_is_refused():
    account = {"snowflake:organizationName": "SCHOOL", "snowflake:accountName": "DATA101"}
    carol = run_program("carol", {**account, "shopstream:org": "acme-univ"})
    assert carol.outputs["lake_bucket"] == "acme-univ-carol-lake"
    assert carol.one(INTEGRATION).inputs["storageAllowedLocations"] == ["s3://acme-univ-carol-lake/raw/"]
    with pytest.raises(ConfigError, match="shopstream:org"):
        run_program("carol", {**account, "shopstream:org": "Acme_Univ"})
    with pytest.raises(ConfigError, match="snowflake:organizationName"):
        run_program("carol", {})


def test_children_are_parented_and_prefixed_by_their_component(alice: ProgramRun):
    components = {
        "Lake": "lake",
        "PipelineIdentity": "pipeline",
        "Warehouse": "warehouse",
        "LakeIntegration": "lake-integration",
        "StreamIngest": "stream",
        "Source": "source",
    }
    for resource in alice.declared:
        if resource.type.startswith("shopstream:infra:"):
            continue
        parent_type = resource.urn.split("::")[2].split("$")[0]
        assert parent_type.startswith("shopstream:infra:"), resource.urn
        assert resource.name.startswith(components[parent_type.rsplit(":", 1)[1]] + "-"), resource.name


def test_no_secret_appears_in_plain_outputs(alice: ProgramRun):
    assert {key for key in SECRET_OUTPUTS if key in alice.outputs} <= alice.secret_outputs
    secrets = {alice.one("aws:iam/accessKey:AccessKey").state["secret"]}
    secrets |= {p.state["result"] for p in alice.of_type("random:index/randomPassword:RandomPassword")}
    plain = json.dumps({k: v for k, v in alice.outputs.items() if k not in alice.secret_outputs})
    assert not [secret for secret in secrets if secret in plain]
    assert all(key in alice.secret_outputs for key in alice.outputs if "dsn" in key or "secret" in key)


def test_outputs_follow_the_contract_and_load_into_cloud_settings(alice: ProgramRun, tmp_path, monkeypatch):
    monkeypatch.setenv("SHOPSTREAM_HOME", str(tmp_path))
    assert set(StackOutputs.model_fields) <= set(alice.outputs)
    assert set(alice.outputs) - set(StackOutputs.model_fields) == {"postgres_extractor_dsn"}
    settings = settings_from_outputs("alice", alice.outputs, "mocked pulumi up")
    names = StackNames("alice")
    assert settings.lake.uri == names.lake_uri and settings.lake.is_s3
    assert settings.lake.region == "eu-west-1"
    assert isinstance(settings.lake.secret_access_key, SecretStr)
    assert settings.warehouse.kind == "snowflake"
    assert settings.warehouse.account == "SCHOOL-DATA101"
    assert (settings.warehouse.database, settings.warehouse.role, settings.warehouse.stage) == (
        names.database,
        names.role,
        names.stage,
    )
    assert settings.warehouse.warehouses == names.warehouses
    assert settings.warehouse.schemas == names.schemas
    assert settings.source.dsn is not None and not settings.source.embedded


def test_stack_without_source_loads_with_embedded_postgres_settings(bob: ProgramRun, tmp_path, monkeypatch):
    monkeypatch.setenv("SHOPSTREAM_HOME", str(tmp_path))
    assert set(bob.outputs) == set(StackOutputs.model_fields) - {"postgres_dsn"}
    settings = settings_from_outputs("bob", bob.outputs, "mocked pulumi up")
    assert settings.source.embedded
    assert settings.warehouse.database == StackNames("bob").database
