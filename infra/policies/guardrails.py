"""Guardrails for ShopStream stacks. Each rule is a plain function, so it can be tested offline; `policies()` wraps
them for the Pulumi policy pack (`__main__.py`).

Two kinds of rule:
- resource rules look at one resource (and its provider). They run as `ResourceValidationPolicy`, which the engine
  calls before it creates or updates each resource, so a violation blocks the step itself;
- stack rules relate resources to each other (every bucket has an encryption configuration...). They run as
  `StackValidationPolicy`, which sees the whole stack only after the update (and, on a first preview, cannot see
  values that do not exist yet: the engine then reports them as advisory).

The engine hands rules each resource's properties wrapped by `pulumi_policy.proxy.unknown_checking_proxy`: maps
are `Mapping` proxies and lists `Sequence` proxies, never `dict`/`list`, and reading an unknown value raises.
Provider inputs that are objects arrive JSON-encoded (e.g. the AWS provider's `defaultTags`).
Properties use the providers' camelCase names. This module depends only on the standard library and
pulumi-policy: the pack runs it on its own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
ENCRYPTION_TYPES = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
LIFECYCLE_TYPES = (
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
)
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ACL_TYPES = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")
IAM_USER = "aws:iam/user:User"
IAM_ROLE = "aws:iam/role:Role"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
BUDGET = "aws:budgets/budget:Budget"
POLICY_DOCUMENT_PROPS = {
    "aws:iam/policy:Policy": "policy",
    USER_POLICY: "policy",
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
    IAM_ROLE: "assumeRolePolicy",
    "aws:s3/bucketPolicy:BucketPolicy": "policy",
}
POLICY_ATTACHMENT_TYPES = (
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
)
# AWS resources of the stack that carry tags (with the provider's default tags).
TAGGED_AWS_TYPES = (*BUCKET_TYPES, IAM_USER, IAM_ROLE, BUDGET)
REQUIRED_TAGS = ("project", "cohort", "stack", "owner")
INTEGRATION_TYPES = (
    "snowflake:index/storageIntegrationAws:StorageIntegrationAws",
    "snowflake:index/storageIntegration:StorageIntegration",
)
WAREHOUSE = "snowflake:index/warehouse:Warehouse"
RESOURCE_MONITOR = "snowflake:index/resourceMonitor:ResourceMonitor"
EXECUTE = "snowflake:index/execute:Execute"
DATABASE = "snowflake:index/database:Database"
SNOWFLAKE_USER_TYPES = (
    "snowflake:index/user:User",
    "snowflake:index/serviceUser:ServiceUser",
    "snowflake:index/legacyServiceUser:LegacyServiceUser",
)
# What only ACCOUNTADMIN may do; everything else runs as SYSADMIN, USERADMIN or SECURITYADMIN.
ACCOUNTADMIN_TYPES = (*INTEGRATION_TYPES, RESOURCE_MONITOR, EXECUTE)

PUBLIC_ACLS = {"public-read", "public-read-write", "authenticated-read"}
PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
# SSE-S3 only: with SSE-KMS, Snowflake's role would also need kms:Decrypt on the key, which it is not given.
SSE_ALGORITHMS = {"AES256"}
ALLOWED_WAREHOUSE_SIZES = {"XSMALL", "SMALL"}  # sizes normalised without hyphens
MAX_AUTO_SUSPEND_SECONDS = 300
MAX_STATEMENT_TIMEOUT_SECONDS = 3600
MAX_DATA_RETENTION_DAYS = 1
# Managed policies that grant whole services (or everything): never attach them to a stack's identities.
BROAD_MANAGED_POLICY_SUFFIXES = ("FullAccess", "/AdministratorAccess", "/PowerUserAccess")
_ASSIGN_MONITOR = re.compile(r'ALTER WAREHOUSE "?([^"\s]+)"? SET RESOURCE_MONITOR = "?([^"\s]+)"?', re.IGNORECASE)


@dataclass(frozen=True)
class Resource:
    """One resource as a rule sees it: type, logical name, properties, and its provider's properties."""

    type: str
    name: str
    props: Mapping[str, Any]
    provider_props: Mapping[str, Any] | None = None


ResourceRule = Callable[[Resource], list[str]]
StackRule = Callable[[Sequence[Resource]], list[str]]


# -- reading properties -------------------------------------------------------------------------------------
def _as_list(value: Any) -> list:
    """A property that may be one value or a list of them (a `Sequence` proxy under the engine)."""
    if value is None:
        return []
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
        return [value]
    return list(value)


def _as_mapping(value: Any) -> Mapping[str, Any]:
    """An object property, also when it arrives JSON-encoded (provider inputs do)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return {}
    return value if isinstance(value, Mapping) else {}


def _of_type(resources: Iterable[Resource], *types: str) -> list[Resource]:
    return [resource for resource in resources if resource.type in types]


def _label(resource: Resource, key: str = "name") -> str:
    return str(resource.props.get(key) or resource.name)


def _bucket_names(resources: Sequence[Resource]) -> dict[str, Resource]:
    return {_label(r, "bucket"): r for r in _of_type(resources, *BUCKET_TYPES)}


def _statements(document: Any) -> list[Mapping[str, Any]]:
    return [s for s in _as_list(_as_mapping(document).get("Statement")) if isinstance(s, Mapping)]


def _sse_algorithms(rules: Any) -> set[str]:
    return {
        str(_as_mapping(rule.get("applyServerSideEncryptionByDefault")).get("sseAlgorithm", ""))
        for rule in _as_list(rules)
        if isinstance(rule, Mapping)
    }


# -- resource rules -----------------------------------------------------------------------------------------
def encryption_is_sse_s3(resource: Resource) -> list[str]:
    """Bucket encryption is SSE-S3 (AES256), the one Snowflake's role can read."""
    if resource.type in ENCRYPTION_TYPES:
        rules = resource.props.get("rules")
    elif resource.type in BUCKET_TYPES and resource.props.get("serverSideEncryptionConfiguration"):
        rules = _as_mapping(resource.props.get("serverSideEncryptionConfiguration")).get("rules")
    else:
        return []
    algorithms = _sse_algorithms(rules)
    if algorithms and algorithms <= SSE_ALGORITHMS:
        return []
    return [f"{resource.name}: encryption {sorted(algorithms) or 'missing'}; use AES256 (SSE-S3)"]


def public_access_blocked(resource: Resource) -> list[str]:
    """Public access blocks set all four flags; no bucket or bucket ACL is public."""
    if resource.type == PUBLIC_ACCESS_BLOCK:
        off = [flag for flag in PUBLIC_ACCESS_FLAGS if resource.props.get(flag) is not True]
        return [f"{resource.name}: public access block leaves {', '.join(off)} off"] if off else []
    if resource.type in (*BUCKET_TYPES, *ACL_TYPES) and resource.props.get("acl") in PUBLIC_ACLS:
        return [f"{resource.name}: ACL {resource.props.get('acl')} is public"]
    return []


def _is_wildcard_action(action: Any) -> bool:
    return action == "*" or str(action).endswith(":*")


def iam_no_wildcards(resource: Resource) -> list[str]:
    """No Allow statement grants `*` or `service:*` actions or a `*` resource; no broad managed policy attached.

    Deny statements may use wildcards: they only take rights away (e.g. the bucket's deny-non-TLS policy)."""
    if resource.type in POLICY_ATTACHMENT_TYPES:
        arn = str(resource.props.get("policyArn", ""))
        return (
            [f"{resource.name}: attaches broad managed policy {arn}"]
            if arn.endswith(BROAD_MANAGED_POLICY_SUFFIXES)
            else []
        )
    prop = POLICY_DOCUMENT_PROPS.get(resource.type)
    if prop is None:
        return []
    violations = []
    for statement in _statements(resource.props.get(prop)):
        if statement.get("Effect") != "Allow":
            continue
        if "NotAction" in statement or "NotResource" in statement:
            violations.append(f"{resource.name}: Allow with NotAction/NotResource grants nearly everything")
        actions = [str(a) for a in _as_list(statement.get("Action")) if _is_wildcard_action(a)]
        if actions:
            violations.append(f"{resource.name}: wildcard action {', '.join(actions)}")
        if "*" in _as_list(statement.get("Resource")):
            violations.append(f"{resource.name}: wildcard resource *")
    return violations


def _principals(statement: Mapping[str, Any]) -> list[Any]:
    principal = statement.get("Principal")
    if isinstance(principal, Mapping):
        return [p for values in principal.values() for p in _as_list(values)]
    return _as_list(principal)


def no_public_principal(resource: Resource) -> list[str]:
    """No Allow statement names the principal `*` (anyone)."""
    prop = POLICY_DOCUMENT_PROPS.get(resource.type)
    if prop is None:
        return []
    return [
        f"{resource.name}: Allow for Principal *"
        for statement in _statements(resource.props.get(prop))
        if statement.get("Effect") == "Allow" and "*" in _principals(statement)
    ]


def trust_requires_external_id(resource: Resource) -> list[str]:
    """A role that another AWS account may assume requires that account's `sts:ExternalId` (confused deputy)."""
    if resource.type != IAM_ROLE:
        return []
    violations = []
    for statement in _statements(resource.props.get("assumeRolePolicy")):
        principal = statement.get("Principal")
        if statement.get("Effect") != "Allow" or not (isinstance(principal, Mapping) and "AWS" in principal):
            continue
        conditions = _as_mapping(statement.get("Condition"))
        external_ids = [
            value for test in conditions.values() for key, value in _as_mapping(test).items() if key == "sts:ExternalId"
        ]
        if not [value for value in external_ids if value]:
            violations.append(f"{resource.name}: trust for {principal['AWS']} does not require sts:ExternalId")
    return violations


def required_tags(resource: Resource) -> list[str]:
    """AWS resources carry the project, cohort, stack and owner tags (their own or the provider's default tags)."""
    if resource.type not in TAGGED_AWS_TYPES:
        return []
    tags = {
        **_as_mapping(_as_mapping((resource.provider_props or {}).get("defaultTags")).get("tags")),
        **_as_mapping(resource.props.get("tagsAll")),
        **_as_mapping(resource.props.get("tags")),
    }
    missing = [tag for tag in REQUIRED_TAGS if not tags.get(tag)]
    return [f"{resource.name}: missing tags {', '.join(missing)}"] if missing else []


def warehouse_small_and_suspending(resource: Resource) -> list[str]:
    """Warehouses are at most SMALL, suspend after at most five idle minutes and cancel statements after an hour."""
    if resource.type != WAREHOUSE:
        return []
    label = _label(resource)
    violations = []
    size = str(resource.props.get("warehouseSize") or "XSMALL").upper().replace("-", "")  # Snowflake's default
    if size not in ALLOWED_WAREHOUSE_SIZES:
        violations.append(f"warehouse {label} is {size}; use XSMALL or SMALL")
    suspend = resource.props.get("autoSuspend")
    if suspend is None or not 0 < int(suspend) <= MAX_AUTO_SUSPEND_SECONDS:
        violations.append(f"warehouse {label} auto-suspend is {suspend}; set 1-{MAX_AUTO_SUSPEND_SECONDS} seconds")
    timeout = resource.props.get("statementTimeoutInSeconds")
    if timeout is None or not 0 < int(timeout) <= MAX_STATEMENT_TIMEOUT_SECONDS:
        violations.append(
            f"warehouse {label} statement timeout is {timeout}; set 1-{MAX_STATEMENT_TIMEOUT_SECONDS} seconds"
        )
    return violations


def resource_monitor_has_quota(resource: Resource) -> list[str]:
    """Resource monitors have a positive credit quota."""
    if resource.type != RESOURCE_MONITOR:
        return []
    quota = resource.props.get("creditQuota")
    return [] if quota is not None and int(quota) > 0 else [f"{_label(resource)}: credit quota is {quota}"]


def database_low_retention(resource: Resource) -> list[str]:
    """Databases are transient or keep Time Travel at most a day: a dropped stack stops paying for storage."""
    if resource.type != DATABASE or resource.props.get("isTransient") is True:
        return []
    days = resource.props.get("dataRetentionTimeInDays")
    if days is not None and int(days) <= MAX_DATA_RETENTION_DAYS:
        return []
    return [f"database {_label(resource)} is permanent with retention {days}; make it transient"]


def users_sign_in_with_key_pair(resource: Resource) -> list[str]:
    """Snowflake users have an RSA public key and no password (password sign-in is being retired)."""
    if resource.type not in SNOWFLAKE_USER_TYPES:
        return []
    violations = []
    if resource.props.get("password"):
        violations.append(f"user {_label(resource)} has a password")
    if not resource.props.get("rsaPublicKey"):
        violations.append(f"user {_label(resource)} has no RSA public key")
    return violations


def least_privilege_snowflake_role(resource: Resource) -> list[str]:
    """Snowflake resources use an explicit role; ACCOUNTADMIN only for integrations and resource monitors."""
    if not resource.type.startswith("snowflake:index/"):
        return []
    role = str((resource.provider_props or {}).get("role") or "").upper()
    if not role:
        return [f"{resource.name}: provider has no explicit role"]
    if role == "ACCOUNTADMIN" and resource.type not in ACCOUNTADMIN_TYPES:
        return [f"{resource.name}: created as ACCOUNTADMIN; use SYSADMIN, USERADMIN or SECURITYADMIN"]
    return []


RESOURCE_RULES: dict[str, ResourceRule] = {
    "s3-encryption-sse-s3": encryption_is_sse_s3,
    "s3-public-access-blocked": public_access_blocked,
    "iam-no-wildcards": iam_no_wildcards,
    "iam-no-public-principal": no_public_principal,
    "iam-trust-requires-external-id": trust_requires_external_id,
    "aws-required-tags": required_tags,
    "warehouse-small-and-suspending": warehouse_small_and_suspending,
    "resource-monitor-has-quota": resource_monitor_has_quota,
    "database-low-retention": database_low_retention,
    "snowflake-users-key-pair": users_sign_in_with_key_pair,
    "snowflake-least-privilege-role": least_privilege_snowflake_role,
}


# -- stack rules --------------------------------------------------------------------------------------------
def bucket_encrypted(resources: Sequence[Resource]) -> list[str]:
    """Every bucket has default server-side encryption."""
    encrypted = {
        _label(c, "bucket") for c in _of_type(resources, *ENCRYPTION_TYPES) if _sse_algorithms(c.props.get("rules"))
    }
    encrypted |= {
        name for name, b in _bucket_names(resources).items() if b.props.get("serverSideEncryptionConfiguration")
    }
    return [f"bucket {name} has no default encryption" for name in _bucket_names(resources) if name not in encrypted]


def bucket_not_public(resources: Sequence[Resource]) -> list[str]:
    """Every bucket has a public access block with all four flags."""
    blocked = {
        _label(block, "bucket")
        for block in _of_type(resources, PUBLIC_ACCESS_BLOCK)
        if all(block.props.get(flag) is True for flag in PUBLIC_ACCESS_FLAGS)
    }
    return [
        f"bucket {name} does not block all public access" for name in _bucket_names(resources) if name not in blocked
    ]


def bucket_lifecycle(resources: Sequence[Resource]) -> list[str]:
    """Every bucket aborts incomplete multipart uploads (their parts are billed until aborted)."""
    cleaned = {
        _label(config, "bucket")
        for config in _of_type(resources, *LIFECYCLE_TYPES)
        for rule in _as_list(config.props.get("rules"))
        if isinstance(rule, Mapping)
        and rule.get("status") == "Enabled"
        and _as_mapping(rule.get("abortIncompleteMultipartUpload")).get("daysAfterInitiation")
    }
    return [
        f"bucket {name} does not abort incomplete multipart uploads"
        for name in _bucket_names(resources)
        if name not in cleaned
    ]


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


def resource_monitor_on_stack(resources: Sequence[Resource]) -> list[str]:
    """A stack with warehouses has a resource monitor with a credit quota, and every warehouse is assigned to it
    (by the warehouse's own setting or by ACCOUNTADMIN's `ALTER WAREHOUSE ... SET RESOURCE_MONITOR`)."""
    warehouses = _of_type(resources, WAREHOUSE)
    if not warehouses:
        return []
    monitors = {_label(m) for m in _of_type(resources, RESOURCE_MONITOR) if int(m.props.get("creditQuota") or 0) > 0}
    if not monitors:
        return ["stack has warehouses but no resource monitor with a credit quota"]
    assigned = {
        match.group(1): match.group(2)
        for execute in _of_type(resources, EXECUTE)
        if (match := _ASSIGN_MONITOR.search(str(execute.props.get("execute") or "")))
    }
    return [
        f"warehouse {_label(w)} is not assigned to the stack's resource monitor"
        for w in warehouses
        if (w.props.get("resourceMonitor") or assigned.get(_label(w))) not in monitors
    ]


def iam_users_have_scoped_policy(resources: Sequence[Resource]) -> list[str]:
    """Every IAM user has an inline policy of its own (scoped by `iam-no-wildcards`): no user without one."""
    with_policy = {str(p.props.get("user")) for p in _of_type(resources, USER_POLICY)}
    return [
        f"IAM user {_label(u)} has no scoped inline policy"
        for u in _of_type(resources, IAM_USER)
        if _label(u) not in with_policy
    ]


def budget_on_stack(resources: Sequence[Resource]) -> list[str]:
    """A stack with AWS resources has a budget with a limit that e-mails someone."""
    if not _of_type(resources, *TAGGED_AWS_TYPES):
        return []
    for budget in _of_type(resources, BUDGET):
        notified = any(
            _as_list(_as_mapping(n).get("subscriberEmailAddresses"))
            for n in _as_list(budget.props.get("notifications"))
        )
        if float(budget.props.get("limitAmount") or 0) > 0 and notified:
            return []
    return ["stack has AWS resources but no budget with a limit and an e-mail alert"]


STACK_RULES: dict[str, StackRule] = {
    "s3-bucket-encrypted": bucket_encrypted,
    "s3-bucket-not-public": bucket_not_public,
    "s3-bucket-lifecycle": bucket_lifecycle,
    "storage-integration-in-stack-bucket": integration_locations_in_stack_bucket,
    "resource-monitor-on-stack": resource_monitor_on_stack,
    "iam-user-has-scoped-policy": iam_users_have_scoped_policy,
    "aws-budget-on-stack": budget_on_stack,
}


def _description(rule: Callable) -> str:
    return (rule.__doc__ or rule.__name__).splitlines()[0]


def policies() -> list:
    """Every rule as a mandatory Pulumi policy: resource rules per resource, stack rules on the whole stack."""
    from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy

    def provider_props(provider: Any) -> Mapping[str, Any] | None:
        return provider.props if provider is not None else None

    def resource_validator(rule: ResourceRule):
        def validate(args, report_violation) -> None:
            resource = Resource(args.resource_type, args.name, args.props, provider_props(args.provider))
            for violation in rule(resource):
                report_violation(violation)

        return validate

    def stack_validator(rule: StackRule):
        def validate(args, report_violation) -> None:
            resources = [Resource(r.resource_type, r.name, r.props, provider_props(r.provider)) for r in args.resources]
            for violation in rule(resources):
                report_violation(violation)

        return validate

    mandatory = EnforcementLevel.MANDATORY
    return [
        ResourceValidationPolicy(name, _description(rule), resource_validator(rule), mandatory)
        for name, rule in RESOURCE_RULES.items()
    ] + [
        StackValidationPolicy(name, _description(rule), stack_validator(rule), mandatory)
        for name, rule in STACK_RULES.items()
    ]
