"""Guardrails for ShopStream stacks. Each rule is a plain function from a stack's resources to its violations,
so it can be tested offline; `stack_policies()` wraps them for the Pulumi policy pack (`__main__.py`).

Resource properties use the providers' camelCase names, as the policy engine delivers them.
This module depends only on the standard library and pulumi-policy: the pack runs it on its own.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
ENCRYPTION_TYPES = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ACL_TYPES = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")
POLICY_DOCUMENT_PROPS = {
    "aws:iam/policy:Policy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
    "aws:iam/role:Role": "assumeRolePolicy",
    "aws:s3/bucketPolicy:BucketPolicy": "policy",
}
POLICY_ATTACHMENT_TYPES = (
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
)
INTEGRATION_TYPES = (
    "snowflake:index/storageIntegrationAws:StorageIntegrationAws",
    "snowflake:index/storageIntegration:StorageIntegration",
)
WAREHOUSE = "snowflake:index/warehouse:Warehouse"
RESOURCE_MONITOR = "snowflake:index/resourceMonitor:ResourceMonitor"

PUBLIC_ACLS = {"public-read", "public-read-write", "authenticated-read"}
PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
SSE_ALGORITHMS = {"AES256", "aws:kms", "aws:kms:dsse"}
ALLOWED_WAREHOUSE_SIZES = {"XSMALL", "SMALL"}  # sizes normalised without hyphens
MAX_AUTO_SUSPEND_SECONDS = 300
# Managed policies that grant whole services (or everything): never attach them to a stack's identities.
BROAD_MANAGED_POLICY_SUFFIXES = ("FullAccess", "/AdministratorAccess", "/PowerUserAccess")


@dataclass(frozen=True)
class Resource:
    type: str
    name: str
    props: Mapping[str, Any]


Rule = Callable[[Sequence[Resource]], list[str]]


def _of_type(resources: Iterable[Resource], *types: str) -> list[Resource]:
    return [resource for resource in resources if resource.type in types]


def _bucket_names(resources: Sequence[Resource]) -> dict[str, Resource]:
    return {r.props.get("bucket") or r.name: r for r in _of_type(resources, *BUCKET_TYPES)}


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _sse_algorithms(rules: Any) -> set[str]:
    return {
        (rule.get("applyServerSideEncryptionByDefault") or {}).get("sseAlgorithm", "")
        for rule in _as_list(rules)
        if isinstance(rule, Mapping)
    }


def bucket_encrypted(resources: Sequence[Resource]) -> list[str]:
    """Every bucket has default server-side encryption (SSE-S3 or SSE-KMS)."""
    encrypted: set[str] = set()
    for config in _of_type(resources, *ENCRYPTION_TYPES):
        if _sse_algorithms(config.props.get("rules")) & SSE_ALGORITHMS:
            encrypted.add(config.props.get("bucket", ""))
    for name, bucket in _bucket_names(resources).items():
        inline = bucket.props.get("serverSideEncryptionConfiguration") or {}
        if isinstance(inline, Mapping) and _sse_algorithms(inline.get("rules")) & SSE_ALGORITHMS:
            encrypted.add(name)
    return [f"bucket {name} has no default encryption" for name in _bucket_names(resources) if name not in encrypted]


def bucket_not_public(resources: Sequence[Resource]) -> list[str]:
    """Every bucket blocks all four kinds of public access and carries no public ACL."""
    blocked = {
        block.props.get("bucket", "")
        for block in _of_type(resources, PUBLIC_ACCESS_BLOCK)
        if all(block.props.get(flag) is True for flag in PUBLIC_ACCESS_FLAGS)
    }
    violations = [
        f"bucket {name} does not block all public access" for name in _bucket_names(resources) if name not in blocked
    ]
    violations += [
        f"bucket {name} has a public ACL"
        for name, b in _bucket_names(resources).items()
        if b.props.get("acl") in PUBLIC_ACLS
    ]
    violations += [
        f"bucket ACL {acl.name} is public"
        for acl in _of_type(resources, *ACL_TYPES)
        if acl.props.get("acl") in PUBLIC_ACLS
    ]
    return violations


def _statements(document: Any) -> list[Mapping[str, Any]]:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError:
            return []
    return [s for s in _as_list((document or {}).get("Statement")) if isinstance(s, Mapping)]


def _is_wildcard_action(action: str) -> bool:
    return action == "*" or action.endswith(":*")


def iam_no_wildcards(resources: Sequence[Resource]) -> list[str]:
    """No Allow statement grants `*` or `service:*` actions or a `*` resource; no broad managed policy attached.

    Deny statements may use wildcards: they only take rights away (e.g. the bucket's deny-non-TLS policy)."""
    violations = []
    for resource in resources:
        prop = POLICY_DOCUMENT_PROPS.get(resource.type)
        if prop is None:
            continue
        for statement in _statements(resource.props.get(prop)):
            if statement.get("Effect") != "Allow":
                continue
            if "NotAction" in statement or "NotResource" in statement:
                violations.append(f"{resource.name}: Allow with NotAction/NotResource grants nearly everything")
            actions = [a for a in _as_list(statement.get("Action")) if _is_wildcard_action(a)]
            if actions:
                violations.append(f"{resource.name}: wildcard action {', '.join(actions)}")
            if "*" in _as_list(statement.get("Resource")):
                violations.append(f"{resource.name}: wildcard resource *")
    for attachment in _of_type(resources, *POLICY_ATTACHMENT_TYPES):
        arn = str(attachment.props.get("policyArn", ""))
        if arn.endswith(BROAD_MANAGED_POLICY_SUFFIXES):
            violations.append(f"{attachment.name}: attaches broad managed policy {arn}")
    return violations


def integration_locations_in_stack_bucket(resources: Sequence[Resource]) -> list[str]:
    """Storage integrations may only reach locations inside a bucket of this stack."""
    prefixes = tuple(f"s3://{name}/" for name in _bucket_names(resources))
    violations = []
    for integration in _of_type(resources, *INTEGRATION_TYPES):
        locations = _as_list(integration.props.get("storageAllowedLocations"))
        if not locations:
            violations.append(f"{integration.name}: no allowed locations (Snowflake would accept any)")
        violations += [
            f"{integration.name}: location {location} is outside this stack's buckets"
            for location in locations
            if not str(location).startswith(prefixes)
        ]
    return violations


def warehouses_small_and_suspending(resources: Sequence[Resource]) -> list[str]:
    """Warehouses are at most SMALL and suspend after at most five idle minutes."""
    violations = []
    for warehouse in _of_type(resources, WAREHOUSE):
        label = warehouse.props.get("name") or warehouse.name
        size = str(warehouse.props.get("warehouseSize") or "XSMALL").upper().replace("-", "")  # Snowflake's default
        if size not in ALLOWED_WAREHOUSE_SIZES:
            violations.append(f"warehouse {label} is {size}; use XSMALL or SMALL")
        suspend = warehouse.props.get("autoSuspend")
        if suspend is None or not 0 < int(suspend) <= MAX_AUTO_SUSPEND_SECONDS:
            violations.append(f"warehouse {label} auto-suspend is {suspend}; set 1-{MAX_AUTO_SUSPEND_SECONDS} seconds")
    return violations


def resource_monitor_on_stack(resources: Sequence[Resource]) -> list[str]:
    """A stack with warehouses has a resource monitor with a credit quota, and every warehouse is assigned to it."""
    warehouses = _of_type(resources, WAREHOUSE)
    if not warehouses:
        return []
    monitors = {
        m.props.get("name") or m.name
        for m in _of_type(resources, RESOURCE_MONITOR)
        if (m.props.get("creditQuota") or 0) > 0
    }
    if not monitors:
        return ["stack has warehouses but no resource monitor with a credit quota"]
    return [
        f"warehouse {w.props.get('name') or w.name} is not assigned to the stack's resource monitor"
        for w in warehouses
        if w.props.get("resourceMonitor") not in monitors
    ]


RULES: dict[str, Rule] = {
    "s3-bucket-encrypted": bucket_encrypted,
    "s3-bucket-not-public": bucket_not_public,
    "iam-no-wildcards": iam_no_wildcards,
    "storage-integration-in-stack-bucket": integration_locations_in_stack_bucket,
    "warehouse-small-and-suspending": warehouses_small_and_suspending,
    "resource-monitor-on-stack": resource_monitor_on_stack,
}


def stack_policies() -> list:
    """The rules as Pulumi stack validation policies (they see every resource of the stack at once)."""
    from pulumi_policy import EnforcementLevel, StackValidationPolicy

    def validator(rule: Rule):
        def validate(args, report_violation) -> None:
            resources = [Resource(r.resource_type, r.name, r.props) for r in args.resources]
            for violation in rule(resources):
                report_violation(violation)

        return validate

    return [
        StackValidationPolicy(
            name=name,
            description=(rule.__doc__ or name).splitlines()[0],
            validate=validator(rule),
            enforcement_level=EnforcementLevel.MANDATORY,
        )
        for name, rule in RULES.items()
    ]
