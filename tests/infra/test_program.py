"""The Pulumi program under Pulumi's mock runtime (the engine and the cloud providers cannot run here).

The mocks in program.py compute what the providers would (ARNs, the integration's IAM user and external id,
secrets), so these tests check the resources' properties and the wiring between them.
"""

import json
import re
from pathlib import Path

import pytest
import yaml
from pydantic import SecretStr

from pipeline.errors import ConfigError
from pipeline.naming import LAKE_PREFIXES, WAREHOUSE_SCHEMAS, StackNames
from pipeline.privacy import policies
from pipeline.settings import SECRET_OUTPUTS, StackOutputs, settings_from_outputs
from pipeline.stream.tables import STREAM_TABLES
from tests.helpers.infra import COHORT, STUDENT_PUBLIC_KEY, stack_config
from tests.infra.program import AWS_ACCOUNT_ID, ProgramRun, run_program

# A truncated, obviously fake private-key block: the program must refuse a private key pasted as the public one.
FAKE_PRIVATE_KEY_PEM = "-----BEGIN " + "PRIVATE KEY-----\nMIIE\n-----END " + "PRIVATE KEY-----"

ALICE = StackNames("alice", COHORT, AWS_ACCOUNT_ID)
# Schema-level governance objects (tags, policies, the merchant mapping) repeat by design in each database.
GOVERNANCE_OBJECTS = {
    policies.PII_TAG, policies.FINANCIAL_TAG, policies.PII_MASK, policies.FINANCIAL_MASK_NUMBER,
    policies.FINANCIAL_MASK_FLOAT, policies.EU_ROW_POLICY, policies.MERCHANT_ROW_POLICY,
}  # fmt: skip
BOB = StackNames("bob", COHORT, AWS_ACCOUNT_ID)
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
    assert bucket.inputs["bucket"] == ALICE.bucket
    assert bucket.inputs["forceDestroy"] is True
    provider = alice.provider_of(bucket)
    assert provider is not None and provider.type == "pulumi:providers:aws"
    tags = json.loads(provider.inputs["defaultTags"])["tags"]
    assert tags == {"project": "shopstream", "cohort": COHORT, "stack": "fall2026-alice", "owner": "alice"}


def test_every_aws_resource_and_lookup_goes_through_the_tagging_provider(alice: ProgramRun):
    aws_resources = [d for d in alice.declared if d.type.startswith("aws:")]
    assert {alice.provider_of(d).name for d in aws_resources} == {"aws"}
    assert alice.named("aws").inputs["region"] == "eu-west-1"


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
    assert all(m.inputs["bucket"] == ALICE.bucket and m.inputs["content"] == "" for m in markers)


# -- pipeline identity ------------------------------------------------------------------------------------------
def test_pipeline_user_may_only_use_its_own_bucket(alice: ProgramRun):
    user = alice.one("aws:iam/user:User")
    assert user.inputs["name"] == ALICE.iam_user
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
    assert key.inputs["user"] == ALICE.iam_user
    assert alice.outputs["pipeline_secret_access_key"] == key.state["secret"]
    assert alice.outputs["pipeline_access_key_id"].startswith("AKIA")
    assert "pipeline_secret_access_key" in alice.secret_outputs


# -- warehouse --------------------------------------------------------------------------------------------------
def test_database_and_schemas_per_stack(alice: ProgramRun):
    names = ALICE
    database = alice.one("snowflake:index/database:Database")
    assert database.inputs["name"] == names.database
    schemas = alice.of_type("snowflake:index/schema:Schema")
    assert sorted(s.inputs["name"] for s in schemas) == sorted(WAREHOUSE_SCHEMAS)
    assert {s.inputs["database"] for s in schemas} == {names.database}


def test_warehouses_are_small_suspending_and_guarded_by_the_resource_monitor(alice: ProgramRun, bob: ProgramRun):
    names = ALICE
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
        assert 0 < warehouse["statementTimeoutInSeconds"] <= 3600
    # Only ACCOUNTADMIN may assign a resource monitor: it does so after SYSADMIN created the warehouse.
    executes = [d for d in alice.of_type("snowflake:index/execute:Execute") if not d.name.startswith("governance-")]
    assignments = {d.inputs["execute"]: d for d in executes if d.inputs["execute"].startswith("ALTER WAREHOUSE")}
    assert set(assignments) == {
        f'ALTER WAREHOUSE "{w}" SET RESOURCE_MONITOR = "{names.resource_monitor}"' for w in names.warehouses.values()
    }
    for assignment in assignments.values():
        assert alice.provider_of(assignment).inputs["role"] == "ACCOUNTADMIN"
        assert assignment.inputs["revert"].endswith("UNSET RESOURCE_MONITOR")


def test_student_role_is_granted_only_its_own_database_schemas_and_warehouses(alice: ProgramRun):
    names = ALICE
    roles = {r.inputs["name"] for r in alice.of_type("snowflake:index/accountRole:AccountRole")}
    assert names.role in roles  # the reader roles of infra/governance.py are the others
    grants = alice.of_type(GRANT)
    grants = [g for g in grants if g.inputs["accountRoleName"] == names.role]
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
    # RAW objects, and APPLY on the governance tags and row access policies dbt attaches (infra/governance.py).
    assert all(
        name.startswith(f'"{names.database}"."RAW".') or name.rsplit(".", 1)[-1] in GOVERNANCE_OBJECTS
        for name in on_schema_objects
    )
    users = {g.inputs.get("userName") for g in alice.of_type("snowflake:index/grantAccountRole:GrantAccountRole")}
    assert {names.student_user, "ALICE_SSO"} <= users


def test_destroy_needs_no_manual_step(alice: ProgramRun):
    """No ownership transfer: objects stay owned by the provider's role, which can drop them with their data."""
    types = {d.type for d in alice.declared}
    assert not any("grantOwnership" in t for t in types)
    assert alice.one(BUCKET).inputs["forceDestroy"] is True


# -- lake integration -------------------------------------------------------------------------------------------
def test_integration_role_arn_is_the_created_role(alice: ProgramRun):
    integration = alice.one(INTEGRATION)
    role = alice.one(ROLE)
    assert role.inputs["name"] == ALICE.iam_role
    assert integration.inputs["storageAwsRoleArn"] == role.state["arn"]
    assert role.state["arn"] == f"arn:aws:iam::{AWS_ACCOUNT_ID}:role/{ALICE.iam_role}"
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
    assert integration["name"] == ALICE.storage_integration
    assert integration["storageProvider"] == "S3" and integration["enabled"] is True
    assert integration["storageAllowedLocations"] == [f"s3://{bucket['bucket']}/raw/"]
    read = alice.one("aws:iam/rolePolicy:RolePolicy")
    assert read.inputs["role"] == ALICE.iam_role
    actions = {a for s in statements(read.inputs["policy"]) for a in as_list(s["Action"])}
    assert actions <= {"s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:GetBucketLocation"}
    resources = {r for s in statements(read.inputs["policy"]) for r in as_list(s["Resource"])}
    assert resources == {bucket["arn"], f"{bucket['arn']}/raw/*"}


def test_external_stage_and_file_formats_live_in_raw(alice: ProgramRun):
    names = ALICE
    stage = alice.one("snowflake:index/stageExternalS3:StageExternalS3").inputs
    assert f"{stage['database']}.{stage['schema']}.{stage['name']}" == names.stage
    assert stage["url"] == f"s3://{names.bucket}/raw/"
    assert stage["storageIntegration"] == names.storage_integration
    parquet = alice.one("snowflake:index/fileFormatParquet:FileFormatParquet").inputs
    csv = alice.one("snowflake:index/fileFormatCsv:FileFormatCsv").inputs
    assert f"{parquet['database']}.{parquet['schema']}.{parquet['name']}" == names.parquet_format
    assert f"{csv['database']}.{csv['schema']}.{csv['name']}" == names.csv_format


# -- optional source ---------------------------------------------------------------------------------------------
def test_postgres_source_has_owner_and_read_only_extractor_with_random_passwords(alice: ProgramRun):
    names = ALICE
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
    assert shared == set(WAREHOUSE_SCHEMAS) | {"LAKE_STAGE", "PARQUET_FORMAT", "CSV_FORMAT"} | GOVERNANCE_OBJECTS
    assert alice.outputs["snowflake_database"] != bob.outputs["snowflake_database"]
    assert alice.outputs["lake_bucket"] != bob.outputs["lake_bucket"]


def test_cohort_qualifies_the_bucket_which_is_globally_unique(alice: ProgramRun, alice_next_term: ProgramRun):
    bucket = alice.outputs["lake_bucket"]
    assert bucket.startswith("shopstream-fall2026-alice-lake-") and len(bucket) <= 63
    assert alice_next_term.outputs["lake_bucket"].startswith("shopstream-spring2027-alice-lake-")
    # The suffix hashes the AWS account id: the same cohort and student elsewhere get another bucket.
    assert StackNames("alice", COHORT, "210987654321").bucket != bucket
    assert alice.one(INTEGRATION).inputs["storageAllowedLocations"] == [f"s3://{bucket}/raw/"]


def test_children_are_parented_and_prefixed_by_their_component(alice: ProgramRun):
    components = {
        "Lake": "lake",
        "PipelineIdentity": "pipeline",
        "Warehouse": "warehouse",
        "LakeIntegration": "lake-integration",
        "StreamIngest": "stream",
        "Source": "source",
        "CostBudget": "cost",
        "GraderAccess": "grader-access",
        "Governance": "governance",
    }
    providers = {d.name for d in alice.declared if d.type.startswith("pulumi:providers:")}
    assert providers == {"aws", *(f"snowflake-{r}" for r in ("accountadmin", "sysadmin", "useradmin", "securityadmin"))}
    for resource in alice.declared:
        if resource.type.startswith(("shopstream:infra:", "pulumi:providers:")):
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
    required = {key for key, field in StackOutputs.model_fields.items() if field.is_required()}
    assert required | {"postgres_dsn", "cohort", "snowflake_user", "snowflake_default_warehouse"} <= set(alice.outputs)
    assert set(alice.outputs) - set(StackOutputs.model_fields) == {"postgres_extractor_dsn"}
    assert alice.outputs["grader_role"] == "FALL2026_GRADER"
    assert (alice.outputs["snowflake_user"], alice.outputs["cohort"]) == (ALICE.student_user, COHORT)
    settings = settings_from_outputs("alice", alice.outputs, "mocked pulumi up")
    names = ALICE
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
    required = {key for key, field in StackOutputs.model_fields.items() if field.is_required()}
    assert required <= set(bob.outputs) <= set(StackOutputs.model_fields) - {"postgres_dsn", "grader_role"}
    settings = settings_from_outputs("bob", bob.outputs, "mocked pulumi up")
    assert settings.source.embedded
    assert settings.warehouse.database == BOB.database


def test_two_cohorts_with_the_same_student_share_no_physical_name(alice: ProgramRun, alice_next_term: ProgramRun):
    """Every physical name in AWS, Snowflake and PostgreSQL carries the cohort (schemas live inside a database)."""
    shared = physical_names(alice) & physical_names(alice_next_term)
    assert shared == set(WAREHOUSE_SCHEMAS) | {"LAKE_STAGE", "PARQUET_FORMAT", "CSV_FORMAT"} | GOVERNANCE_OBJECTS
    for key in ("lake_bucket", "snowflake_database", "snowflake_role", "snowflake_user"):
        assert alice.outputs[key] != alice_next_term.outputs[key]
    assert alice.outputs["postgres_dsn"] != alice_next_term.outputs["postgres_dsn"]


# -- identities and least privilege ----------------------------------------------------------------------------
def test_student_user_signs_in_with_a_key_pair_and_lands_in_its_stack(alice: ProgramRun):
    user = alice.one("snowflake:index/user:User")
    assert user.inputs["name"] == ALICE.student_user
    assert "password" not in user.inputs
    expected_key = "".join(STUDENT_PUBLIC_KEY.strip().splitlines()[1:-1])
    assert user.inputs["rsaPublicKey"] == expected_key  # one line, no PEM header: what Snowflake accepts
    assert user.inputs["defaultRole"] == ALICE.role
    assert user.inputs["defaultWarehouse"] == ALICE.warehouses["bi"]
    assert user.inputs["defaultNamespace"] == ALICE.database
    granted = alice.named("warehouse-student-role-to-user").inputs
    assert (granted["roleName"], granted["userName"]) == (ALICE.role, ALICE.student_user)
    assert alice.outputs["snowflake_default_warehouse"] == ALICE.warehouses["bi"]


def role_of(run: ProgramRun, resource) -> str:
    provider = run.provider_of(resource)
    assert provider is not None, f"{resource.name} uses the default provider"
    return provider.inputs["role"]


def test_snowflake_objects_are_created_by_the_least_powerful_role(alice: ProgramRun):
    roles = {}
    for resource in alice.declared:
        if resource.type.startswith("snowflake:index/"):
            # Governance objects are SYSADMIN's (checked below); the other Executes assign resource monitors.
            kind = "Governance" if resource.name.startswith("governance-") and "Grant" not in resource.type else None
            roles.setdefault(kind or resource.type.split(":")[-1], set()).add(role_of(alice, resource))
    assert roles["Database"] == roles["Schema"] == roles["Warehouse"] == {"SYSADMIN"}
    assert roles["StageExternalS3"] == roles["FileFormatParquet"] == roles["FileFormatCsv"] == {"SYSADMIN"}
    assert roles["User"] == roles["AccountRole"] == {"USERADMIN"}
    assert roles["Governance"] == {"SYSADMIN", "USERADMIN"}  # tags, policies, mapping table; reader roles
    assert roles["GrantPrivilegesToAccountRole"] == roles["GrantAccountRole"] == {"SECURITYADMIN"}
    assert roles["StorageIntegrationAws"] == roles["ResourceMonitor"] == {"ACCOUNTADMIN"}
    # Resource-monitor assignments need ACCOUNTADMIN; the stream's pipes (CREATE PIPE) are SYSADMIN's schema objects.
    assert roles["Execute"] == {"ACCOUNTADMIN", "SYSADMIN"}
    pipes = [
        d for d in alice.of_type("snowflake:index/execute:Execute") if d.inputs["execute"].startswith("CREATE PIPE")
    ]
    assert len(pipes) == len(STREAM_TABLES) and {role_of(alice, d) for d in pipes} == {"SYSADMIN"}
    # SYSADMIN may use the integration it builds the stage on; every provider signs in with a key pair.
    usage = alice.named("lake-integration-integration-usage").inputs
    assert (usage["accountRoleName"], usage["onAccountObject"]["objectType"]) == ("SYSADMIN", "INTEGRATION")
    snowflake_providers = [d for d in alice.declared if d.type == "pulumi:providers:snowflake"]
    assert {p.inputs["authenticator"] for p in snowflake_providers} == {"SNOWFLAKE_JWT"}
    assert not [p for p in snowflake_providers if {"password", "privateKey"} & set(p.inputs)]


# -- replacements, costs, lake hygiene ---------------------------------------------------------------------------
def test_every_fixed_name_resource_is_replaced_delete_first(alice: ProgramRun):
    """A fixed physical name cannot exist twice: create-before-delete would fail with "already exists" (or, for
    a bucket's one-per-bucket settings, the old one's delete would undo the new one)."""
    fixed = [
        d
        for d in alice.declared
        if not d.type.startswith(("pulumi:providers:", "shopstream:infra:")) and {"name", "bucket"} & set(d.inputs)
    ]
    assert len(fixed) >= 30
    assert [d.name for d in fixed if not d.registration.delete_before_replace] == []
    stage = alice.one("snowflake:index/stageExternalS3:StageExternalS3")
    assert stage.registration.replace_with == (alice.one(INTEGRATION).urn,)  # a new integration, a new stage


def test_cost_guards_budget_transient_database(alice: ProgramRun):
    budget = alice.one("aws:budgets/budget:Budget")
    assert budget.inputs["name"] == ALICE.budget
    assert (budget.inputs["limitAmount"], budget.inputs["limitUnit"], budget.inputs["timeUnit"]) == (
        "10",
        "USD",
        "MONTHLY",
    )
    assert budget.inputs["costFilters"] == [{"name": "TagKeyValue", "values": ["user:stack$fall2026-alice"]}]
    alerts = budget.inputs["notifications"]
    assert [a["threshold"] for a in alerts] == [80, 100]
    assert all(a["subscriberEmailAddresses"] == ["student@example.edu"] for a in alerts)
    assert "notifications" in budget.secret_inputs  # the owner's address never shows in plan output
    database = alice.one("snowflake:index/database:Database").inputs
    assert database["isTransient"] is True and database["dataRetentionTimeInDays"] == 1


def test_lake_lifecycle_aborts_uploads_and_expires_quarantine(alice: ProgramRun):
    lifecycle = alice.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs
    assert lifecycle["bucket"] == ALICE.bucket
    rules = {rule["id"]: rule for rule in lifecycle["rules"]}
    abort = rules["abort-incomplete-multipart-uploads"]
    assert abort["filter"] == {"prefix": ""} and abort["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 1}
    quarantine = rules["expire-quarantine"]
    assert quarantine["filter"] == {"prefix": "quarantine/"} and quarantine["expiration"]["days"] == 30
    assert {rule["status"] for rule in rules.values()} == {"Enabled"}


def test_snowflake_resources_need_no_preview_feature_in_the_pinned_provider(alice: ProgramRun):
    """pulumi-snowflake lists the resources that still need `preview_features_enabled`; the program uses none."""
    import pulumi_snowflake

    doc = pulumi_snowflake.ProviderArgs.__init__.__doc__
    preview_list = doc.split("Preview features that can be enabled are:")[1].split("Promoted features")[0]
    preview = set(re.findall(r"<code>(snowflake_[a-z0-9_]+)</code>", preview_list))
    assert "snowflake_user_public_keys_resource" in preview  # the list was read
    used = {
        "snowflake_" + re.sub(r"(?<!^)(?=[A-Z])", "_", d.type.rsplit(":", 1)[1]).lower() + "_resource"
        for d in alice.declared
        if d.type.startswith("snowflake:index/")
    }
    assert "snowflake_stage_external_s3_resource" in used
    assert used.isdisjoint(preview)


# -- configuration -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"creditQuota": "0"}, "shopstream:creditQuota must be a positive whole number"),
        ({"creditQuota": "-3"}, "shopstream:creditQuota must be a positive whole number"),
        ({"budgetUsd": "0"}, "shopstream:budgetUsd must be a positive whole number"),
        ({"cohort": ""}, "shopstream:cohort is not set"),
        ({"cohort": "Fall-2026"}, "invalid cohort"),
        ({"ownerEmail": "alice"}, "shopstream:ownerEmail is not an e-mail address"),
        ({"studentPublicKey": ""}, "shopstream:studentPublicKey is not set"),
        ({"studentPublicKey": "not a key"}, "is not a PEM or base64 RSA public key"),
        ({"studentPublicKey": FAKE_PRIVATE_KEY_PEM}, "PRIVATE key"),
        ({"org": "acme"}, "shopstream:org was replaced by shopstream:cohort"),
        ({"graderRole": "grader; drop"}, "not a plain Snowflake role name"),
        ({"cohort": "autumn2026x"}, "invalid cohort"),  # 11 characters
    ],
)
def test_bad_config_is_refused_with_one_line_naming_the_key(override: dict, message: str):
    with pytest.raises(ConfigError, match=re.escape(message)) as error:
        run_program("carol", stack_config(**override))
    assert "\n" not in str(error.value)
    assert "MIIE" not in str(error.value)  # a key pasted by mistake is never echoed


def test_missing_accounts_and_a_password_in_the_environment_are_refused(monkeypatch: pytest.MonkeyPatch):
    config = stack_config()
    for name in ("SNOWFLAKE_ORGANIZATION_NAME", "SNOWFLAKE_ACCOUNT_NAME"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match="snowflake:organizationName"):
        run_program("carol", {k: v for k, v in config.items() if not k.startswith("snowflake:")})
    monkeypatch.delenv("SNOWFLAKE_USER", raising=False)
    with pytest.raises(ConfigError, match="snowflake:user"):
        run_program("carol", {k: v for k, v in config.items() if k != "snowflake:user"})
    monkeypatch.setenv("SNOWFLAKE_PASSWORD", "hunter2hunter2")
    with pytest.raises(ConfigError, match="SNOWFLAKE_PASSWORD is set") as error:
        run_program("carol", config)
    assert "hunter2" not in str(error.value)


def test_pulumi_dev_yaml_documents_every_key_with_a_working_example():
    """Every `shopstream:` key the program reads is documented, and the example values declare a stack."""
    root = Path(__file__).resolve().parents[2]
    text = (root / "Pulumi.dev.yaml").read_text()
    sources = "".join((root / "infra" / name).read_text() for name in ("stack_config.py", "course.py"))
    read = set(re.findall(r'config(?:\.get(?:_bool|_int|_secret)?\(|, )"(\w+)"', sources))
    assert {"cohort", "studentPublicKey", "ownerEmail", "creditQuota", "graderRole", "graderPublicKey"} <= read
    assert [key for key in read - {"org"} if f"shopstream:{key}:" not in text] == []
    example = yaml.safe_load(text)["config"]
    assert "PRIVATE KEY-----" not in text and "BEGIN" not in text  # a public key only, never a private one
    run = run_program("alice", example)
    assert run.outputs["cohort"] == example["shopstream:cohort"]
    assert run.one("snowflake:index/user:User").inputs["rsaPublicKey"] == example["shopstream:studentPublicKey"]
