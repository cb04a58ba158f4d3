"""The guardrails policy pack, run through pulumi_policy's own analyzer servicer (tests/infra/policy_engine.py): the
properties reach each rule deserialised and wrapped by `unknown_checking_proxy`, lists as `Sequence` proxies, as
under the real engine. Every rule passes on the program's own resources (declared under Pulumi's mock runtime,
since no engine can run here) and fires on a bad example derived from them."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

import pytest
from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy
from pulumi_policy.proxy import unknown_checking_proxy

from infra.policies.guardrails import RESOURCE_RULES, STACK_RULES, Resource, _as_list, policies
from tests.infra.policy_engine import analyze_each, analyze_stack, struct
from tests.infra.program import Declared, ProgramRun, Registration

BUCKET = "aws:s3/bucket:Bucket"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
IAM_ROLE = "aws:iam/role:Role"
BUDGET = "aws:budgets/budget:Budget"
INTEGRATION = "snowflake:index/storageIntegrationAws:StorageIntegrationAws"
WAREHOUSE = "snowflake:index/warehouse:Warehouse"
MONITOR = "snowflake:index/resourceMonitor:ResourceMonitor"
EXECUTE = "snowflake:index/execute:Execute"
DATABASE = "snowflake:index/database:Database"
USER = "snowflake:index/user:User"
AWS_PROVIDER = "pulumi:providers:aws"

Mutation = Callable[[ProgramRun], ProgramRun]


# -- bad examples, derived from the program's own resources ---------------------------------------------------
def _replace_resource(resource: Declared, **props) -> Declared:
    inputs = {k: v for k, v in {**resource.inputs, **props}.items() if v is not None}
    state = {k: v for k, v in {**resource.state, **props}.items() if v is not None}
    registration = replace(resource.registration, raw_inputs=struct(inputs)) if resource.registration else None
    return replace(resource, inputs=inputs, state=state, registration=registration)


def changed(type_: str, **props) -> Mutation:
    """The stack with properties set (or removed, with None) on every resource of `type_`."""

    def mutate(run: ProgramRun) -> ProgramRun:
        declared = [_replace_resource(d, **props) if d.type == type_ else d for d in run.declared]
        return replace(run, declared=declared)

    return mutate


def without(type_: str) -> Mutation:
    return lambda run: replace(run, declared=[d for d in run.declared if d.type != type_])


def with_policy_document(type_: str, statement: dict) -> Mutation:
    prop = "assumeRolePolicy" if type_ == IAM_ROLE else "policy"
    return changed(type_, **{prop: json.dumps({"Version": "2012-10-17", "Statement": [statement]})})


def extra(type_: str, name: str, props: dict) -> Mutation:
    """The stack with one more resource (default provider, no options)."""

    def mutate(run: ProgramRun) -> ProgramRun:
        urn = f"urn:pulumi:{run.stack}::shopstream::{type_}::{name}"
        registration = Registration("", False, (), "", struct(props))
        return replace(
            run, declared=[*run.declared, Declared(type_, name, urn, props, props, registration=registration)]
        )

    return mutate


def provided_by(type_: str, provider_name: str) -> Mutation:
    """Resources of `type_` registered with another of the stack's providers."""

    def mutate(run: ProgramRun) -> ProgramRun:
        provider_urn = run.named(provider_name).urn
        declared = [
            replace(d, registration=replace(d.registration, provider_urn=provider_urn)) if d.type == type_ else d
            for d in run.declared
        ]
        return replace(run, declared=declared)

    return mutate


EXTERNAL_ID = {"StringEquals": {"sts:ExternalId": "SF_1234="}}
TRUST = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::987654321098:user/sf"}, "Action": "sts:AssumeRole"}

BAD_EXAMPLES: dict[str, list[Mutation]] = {
    "s3-encryption-sse-s3": [
        changed(ENCRYPTION, rules=[{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}]),
        changed(ENCRYPTION, rules=[]),
    ],
    "s3-public-access-blocked": [
        changed(PUBLIC_ACCESS_BLOCK, restrictPublicBuckets=False),
        changed(BUCKET, acl="public-read"),
    ],
    "iam-no-wildcards": [
        with_policy_document(USER_POLICY, {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}),
        with_policy_document(USER_POLICY, {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}),
        with_policy_document(USER_POLICY, {"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::b"}),
        extra(
            "aws:iam/userPolicyAttachment:UserPolicyAttachment",
            "s3-full",
            {"user": "x", "policyArn": "arn:aws:iam::aws:policy/AmazonS3FullAccess"},
        ),
    ],
    "iam-no-public-principal": [
        with_policy_document(BUCKET_POLICY, {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}),
        with_policy_document(IAM_ROLE, {**TRUST, "Principal": {"AWS": "*"}, "Condition": EXTERNAL_ID}),
    ],
    "iam-trust-requires-external-id": [
        with_policy_document(IAM_ROLE, TRUST),
        with_policy_document(IAM_ROLE, {**TRUST, "Condition": {"StringEquals": {"sts:ExternalId": ""}}}),
    ],
    "aws-required-tags": [
        changed(AWS_PROVIDER, defaultTags=json.dumps({"tags": {"project": "shopstream"}})),
        changed(AWS_PROVIDER, defaultTags=None),
    ],
    "warehouse-small-and-suspending": [
        changed(WAREHOUSE, warehouseSize="MEDIUM"),
        changed(WAREHOUSE, autoSuspend=600),
        changed(WAREHOUSE, autoSuspend=0),
        changed(WAREHOUSE, autoSuspend=None),
        changed(WAREHOUSE, statementTimeoutInSeconds=None),
        changed(WAREHOUSE, statementTimeoutInSeconds=172800),
    ],
    "resource-monitor-has-quota": [changed(MONITOR, creditQuota=0), changed(MONITOR, creditQuota=None)],
    "database-low-retention": [changed(DATABASE, isTransient=False, dataRetentionTimeInDays=90)],
    "snowflake-users-key-pair": [changed(USER, password="hunter2hunter2"), changed(USER, rsaPublicKey=None)],
    "snowflake-least-privilege-role": [
        provided_by(DATABASE, "snowflake-accountadmin"),
        provided_by(WAREHOUSE, "snowflake-accountadmin"),
        provided_by("snowflake:index/schema:Schema", "snowflake-accountadmin"),
        lambda run: replace(
            run,
            declared=[
                replace(d, registration=replace(d.registration, provider_urn="")) if d.type == USER else d
                for d in run.declared
            ],
        ),
    ],
    "s3-bucket-encrypted": [without(ENCRYPTION)],
    "s3-bucket-not-public": [without(PUBLIC_ACCESS_BLOCK), changed(PUBLIC_ACCESS_BLOCK, blockPublicPolicy=False)],
    "s3-bucket-lifecycle": [
        without(LIFECYCLE),
        changed(LIFECYCLE, rules=[{"id": "expire", "status": "Enabled", "expiration": {"days": 30}}]),
    ],
    "storage-integration-in-stack-bucket": [
        changed(INTEGRATION, storageAllowedLocations=["s3://someone-elses-bucket/raw/"]),
        changed(INTEGRATION, storageAllowedLocations=["*"]),
        changed(INTEGRATION, storageAllowedLocations=None),
    ],
    "resource-monitor-on-stack": [
        without(MONITOR),
        without(EXECUTE),
        changed(MONITOR, creditQuota=None),
    ],
    "iam-user-has-scoped-policy": [without(USER_POLICY)],
    "aws-budget-on-stack": [without(BUDGET), changed(BUDGET, notifications=None)],
}


# -- the pack as the engine runs it -------------------------------------------------------------------------
def test_every_rule_is_a_mandatory_policy_of_the_right_kind():
    pack = {policy.name: policy for policy in policies()}
    assert set(pack) == set(RESOURCE_RULES) | set(STACK_RULES)
    assert all(isinstance(pack[name], ResourceValidationPolicy) for name in RESOURCE_RULES)
    assert all(isinstance(pack[name], StackValidationPolicy) for name in STACK_RULES)
    assert {policy.enforcement_level.value for policy in pack.values()} == {"mandatory"}


def test_every_rule_has_bad_examples():
    assert set(BAD_EXAMPLES) == set(RESOURCE_RULES) | set(STACK_RULES)


def test_the_program_passes_every_resource_policy_before_each_step(alice: ProgramRun, bob: ProgramRun):
    assert analyze_each(alice) == []
    assert analyze_each(bob) == []


def test_the_program_passes_every_policy_after_up(alice: ProgramRun, bob: ProgramRun):
    assert analyze_each(alice, after_up=True) == []
    assert analyze_stack(alice) == []
    assert analyze_stack(bob) == []


@pytest.mark.parametrize(
    ("rule", "index"), [(rule, i) for rule, examples in BAD_EXAMPLES.items() for i in range(len(examples))]
)
def test_every_rule_fires_on_a_bad_example(alice: ProgramRun, rule: str, index: int):
    bad = BAD_EXAMPLES[rule][index](alice)
    diagnostics = analyze_each(bad) if rule in RESOURCE_RULES else analyze_stack(bad)
    fired = [d for d in diagnostics if d.policy == rule]
    assert fired, f"{rule} accepted bad example #{index}"
    assert all(d.mandatory for d in fired)
    # A bad example breaks only its own rule (so each rule is tested on its own).
    assert {d.policy for d in diagnostics} == {rule}


def test_a_first_preview_blocks_single_resource_violations_before_anything_exists(alice_preview: ProgramRun):
    """On a first preview ids and ARNs are unknown: resource policies still decide on what is known, and a
    violation there is mandatory (it blocks `up` before the resource is created)."""
    assert [d for d in analyze_each(alice_preview) if d.mandatory] == []
    medium = changed(WAREHOUSE, warehouseSize="MEDIUM")(alice_preview)
    fired = [d for d in analyze_each(medium) if d.mandatory]
    assert {d.policy for d in fired} == {"warehouse-small-and-suspending"}
    assert len(fired) == 3  # one per warehouse


def test_a_first_preview_reports_what_it_cannot_know_as_advisory_only(alice_preview: ProgramRun):
    """Policy documents built from ARNs are unknown at a first preview: the engine's proxy raises, pulumi_policy
    turns that into an advisory note, and the same rules run for real before the step during `up`."""
    policy_of_role = next(d for d in alice_preview.declared if d.type == "aws:iam/rolePolicy:RolePolicy")
    assert "04da6b54-80e4-46f7-96ec-b56ff0331ba9" in str(policy_of_role.registration.raw_inputs)  # unknown string
    diagnostics = analyze_each(alice_preview)
    advisory = {d.policy for d in diagnostics if not d.mandatory}
    assert advisory <= {"iam-no-wildcards", "iam-no-public-principal", "iam-trust-requires-external-id"}
    assert all("can't be known during preview" in d.message for d in diagnostics)
    assert [d for d in analyze_stack(alice_preview, after_up=False) if d.mandatory] == []


# -- the reason: lists arrive as Sequence proxies --------------------------------------------------------------
def test_lists_under_the_engine_are_sequence_proxies_and_are_read_as_lists():
    props = unknown_checking_proxy({"storageAllowedLocations": ["s3://b/raw/"], "rules": [{"a": 1}]})
    locations = props["storageAllowedLocations"]
    assert not isinstance(locations, list)  # what broke the pack: a list check saw one item, the proxy itself
    assert _as_list(locations) == ["s3://b/raw/"]
    assert _as_list("s3://b/raw/") == ["s3://b/raw/"]
    rule = STACK_RULES["storage-integration-in-stack-bucket"]
    stack = [
        Resource(BUCKET, "b", unknown_checking_proxy({"bucket": "b"})),
        Resource(INTEGRATION, "i", props),
    ]
    assert rule(stack) == []


def test_deny_statements_may_use_wildcards(alice: ProgramRun):
    """The lake's deny-non-TLS bucket policy uses `s3:*` and Principal `*`; denying everything is safe."""
    policy = next(d for d in alice.declared if d.type == BUCKET_POLICY)
    assert '"s3:*"' in policy.inputs["policy"] and '"Principal": "*"' in policy.inputs["policy"]
    resource = Resource(BUCKET_POLICY, policy.name, unknown_checking_proxy(policy.inputs))
    assert RESOURCE_RULES["iam-no-wildcards"](resource) == []
    assert RESOURCE_RULES["iam-no-public-principal"](resource) == []
