"""The guardrails policy pack: every rule passes on the program's own resources (declared under Pulumi's mock
runtime, since no engine can run here) and fails on a bad example derived from them."""

import json
from dataclasses import replace

import pytest

from infra.policies.guardrails import RULES, Resource, stack_policies
from tests.infra.program import ProgramRun


@pytest.fixture(scope="module")
def program(alice: ProgramRun) -> list[Resource]:
    """The stack as the policy engine sees it after `up`: each resource's type, name and state."""
    return [Resource(d.type, d.name, d.state) for d in alice.declared]


def changed(resources: list[Resource], type_: str, **props) -> list[Resource]:
    """The stack with one property set (or removed, with None) on every resource of `type_`."""
    out = []
    for resource in resources:
        if resource.type == type_:
            merged = {**resource.props, **props}
            resource = replace(resource, props={k: v for k, v in merged.items() if v is not None})
        out.append(resource)
    return out


def without(resources: list[Resource], type_: str) -> list[Resource]:
    return [resource for resource in resources if resource.type != type_]


def with_user_policy(resources: list[Resource], statement: dict) -> list[Resource]:
    document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    return [*resources, Resource("aws:iam/userPolicy:UserPolicy", "too-broad", {"user": "x", "policy": document})]


@pytest.mark.parametrize("rule", RULES)
def test_every_rule_passes_on_the_program(program: list[Resource], rule: str):
    assert RULES[rule](program) == []


ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
INTEGRATION = "snowflake:index/storageIntegrationAws:StorageIntegrationAws"
WAREHOUSE = "snowflake:index/warehouse:Warehouse"
MONITOR = "snowflake:index/resourceMonitor:ResourceMonitor"

BAD_EXAMPLES = {
    "s3-bucket-encrypted": [
        lambda r: without(r, ENCRYPTION),
        lambda r: changed(r, ENCRYPTION, rules=[{"applyServerSideEncryptionByDefault": {"sseAlgorithm": ""}}]),
    ],
    "s3-bucket-not-public": [
        lambda r: changed(r, PUBLIC_ACCESS_BLOCK, restrictPublicBuckets=False),
        lambda r: without(r, PUBLIC_ACCESS_BLOCK),
        lambda r: changed(r, "aws:s3/bucket:Bucket", acl="public-read"),
    ],
    "iam-no-wildcards": [
        lambda r: with_user_policy(r, {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}),
        lambda r: with_user_policy(r, {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}),
        lambda r: with_user_policy(r, {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b"}),
        lambda r: [
            *r,
            Resource(
                "aws:iam/userPolicyAttachment:UserPolicyAttachment",
                "s3-full",
                {"user": "x", "policyArn": "arn:aws:iam::aws:policy/AmazonS3FullAccess"},
            ),
        ],
    ],
    "storage-integration-in-stack-bucket": [
        lambda r: changed(r, INTEGRATION, storageAllowedLocations=["s3://someone-elses-bucket/raw/"]),
        lambda r: changed(r, INTEGRATION, storageAllowedLocations=["*"]),
        lambda r: changed(r, INTEGRATION, storageAllowedLocations=None),
    ],
    "warehouse-small-and-suspending": [
        lambda r: changed(r, WAREHOUSE, warehouseSize="MEDIUM"),
        lambda r: changed(r, WAREHOUSE, autoSuspend=600),
        lambda r: changed(r, WAREHOUSE, autoSuspend=0),
        lambda r: changed(r, WAREHOUSE, autoSuspend=None),
    ],
    "resource-monitor-on-stack": [
        lambda r: without(r, MONITOR),
        lambda r: changed(r, WAREHOUSE, resourceMonitor=None),
        lambda r: changed(r, MONITOR, creditQuota=None),
    ],
}


def test_every_rule_has_bad_examples():
    assert set(BAD_EXAMPLES) == set(RULES)


@pytest.mark.parametrize(
    ("rule", "index"), [(rule, i) for rule, examples in BAD_EXAMPLES.items() for i in range(len(examples))]
)
def test_every_rule_fails_on_a_bad_example(program: list[Resource], rule: str, index: int):
    violations = RULES[rule](BAD_EXAMPLES[rule][index](program))
    assert violations, f"{rule} accepted bad example #{index}"


def test_deny_statements_may_use_wildcards(program: list[Resource]):
    """The lake's deny-non-TLS bucket policy uses `s3:*` and Principal `*`; denying everything is safe."""
    policy = next(r for r in program if r.type == "aws:s3/bucketPolicy:BucketPolicy")
    assert '"s3:*"' in policy.props["policy"]
    assert RULES["iam-no-wildcards"]([policy]) == []


def test_policy_pack_reports_each_violation_through_pulumi_policy(program: list[Resource]):
    """The pack's stack policies feed Pulumi's resources to the rules and report what they find."""

    class PolicyResource:
        def __init__(self, resource: Resource):
            self.resource_type, self.name, self.props = resource.type, resource.name, resource.props

    class Args:
        def __init__(self, resources: list[Resource]):
            self.resources = [PolicyResource(r) for r in resources]

    policies = {policy.name: policy for policy in stack_policies()}
    assert set(policies) == set(RULES)
    for name, policy in policies.items():
        reported: list[str] = []
        policy.validate(Args(program), reported.append)
        assert reported == [], name
        policy.validate(Args(BAD_EXAMPLES[name][0](program)), reported.append)
        assert reported == RULES[name](BAD_EXAMPLES[name][0](program)), name
