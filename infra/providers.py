"""Explicit providers: one AWS provider that tags everything, and one Snowflake provider per administrative role.

Snowflake's system roles split the work (least privilege):
- ACCOUNTADMIN only for what nothing else may do: the storage integration, the resource monitor and assigning it
  to warehouses;
- SYSADMIN creates the database, schemas, warehouses, file formats and stage, so it owns them and can manage
  (and drop) what students create inside;
- USERADMIN creates the student's user and role;
- SECURITYADMIN (MANAGE GRANTS) grants privileges and roles.
Every provider signs in with a key pair: the private key comes from SNOWFLAKE_PRIVATE_KEY in the environment of
`pulumi up`, never from a resource input, so it never enters the state.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_snowflake as snowflake

from infra.stack_config import SnowflakeLogin

KEY_PAIR_AUTHENTICATOR = "SNOWFLAKE_JWT"
SNOWFLAKE_ADMIN_ROLES = ("ACCOUNTADMIN", "SYSADMIN", "USERADMIN", "SECURITYADMIN")


@dataclass(frozen=True)
class SnowflakeProviders:
    accountadmin: snowflake.Provider
    sysadmin: snowflake.Provider
    useradmin: snowflake.Provider
    securityadmin: snowflake.Provider


def aws_provider(region: str, tags: dict[str, str]) -> aws.Provider:
    """Default tags reach every taggable AWS resource of the stack, including ones added later."""
    return aws.Provider("aws", region=region, default_tags=aws.ProviderDefaultTagsArgs(tags=tags))


def snowflake_providers(login: SnowflakeLogin) -> SnowflakeProviders:
    def provider(role: str) -> snowflake.Provider:
        return snowflake.Provider(
            f"snowflake-{role.lower()}",
            organization_name=login.organization,
            account_name=login.account,
            user=login.user,
            role=role,
            authenticator=KEY_PAIR_AUTHENTICATOR,
        )

    return SnowflakeProviders(*(provider(role) for role in SNOWFLAKE_ADMIN_ROLES))


def fixed_name(parent: pulumi.Resource, provider: pulumi.ProviderResource, **extra) -> pulumi.ResourceOptions:
    """Options for a resource whose physical name is fixed: a replacement must delete the old one first,
    or the create fails with "already exists"."""
    return pulumi.ResourceOptions(parent=parent, provider=provider, delete_before_replace=True, **extra)
