"""The stack's Snowflake database, schemas, warehouses, cost guard, and the student's role and user.

Each object is created by the least powerful system role that may create it (infra/providers.py): SYSADMIN owns
the database, schemas and warehouses, so `pulumi destroy` can drop them with everything students created inside;
ACCOUNTADMIN only creates the resource monitor and assigns it to the warehouses (Snowflake reserves both to it).
"""

from __future__ import annotations

import pulumi
import pulumi_snowflake as snowflake

from infra.providers import SnowflakeProviders, fixed_name
from infra.stack_config import StackConfig
from pipeline.naming import WAREHOUSE_SCHEMAS, StackNames

WAREHOUSE_SIZES = {"loading": "XSMALL", "transform": "SMALL", "bi": "XSMALL"}
AUTO_SUSPEND_SECONDS = 60
# A runaway statement is cancelled instead of burning credits until the monitor stops everything.
STATEMENT_TIMEOUT_SECONDS = {"loading": 1800, "transform": 1800, "bi": 600}
# Notify at 75 % of the quota, stop new queries at 100 %, cancel running ones at 110 %.
NOTIFY_AT, SUSPEND_AT, SUSPEND_IMMEDIATELY_AT = 75, 100, 110
# Transient: a destroyed or rebuilt stack leaves no Fail-safe storage to pay for; one day of Time Travel remains.
DATA_RETENTION_DAYS = 1
# The student role is granted to SYSADMIN so administrators can see and manage what students create.
ADMIN_PARENT_ROLE = "SYSADMIN"
# Power BI and other tools that use the user's defaults land on the BI warehouse.
DEFAULT_WAREHOUSE = "bi"

SCHEMA_PRIVILEGES = ["USAGE", "CREATE TABLE", "CREATE VIEW", "CREATE STAGE", "CREATE FILE FORMAT"]


def _quoted(name: pulumi.Input[str]) -> pulumi.Output[str]:
    return pulumi.Output.concat('"', name, '"')


class Warehouse(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        names: StackNames,
        config: StackConfig,
        providers: SnowflakeProviders,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("shopstream:infra:Warehouse", name, None, opts)
        self._name = name
        self._grants_opts = pulumi.ResourceOptions(parent=self, provider=providers.securityadmin)
        self.database = snowflake.Database(
            f"{name}-database",
            name=names.database,
            is_transient=True,
            data_retention_time_in_days=DATA_RETENTION_DAYS,
            drop_public_schema_on_creation=True,
            comment=f"ShopStream stack {names.qualified}",
            opts=fixed_name(self, providers.sysadmin),
        )
        self.schemas = {
            schema: snowflake.Schema(
                f"{name}-schema-{schema.lower()}",
                database=self.database.name,
                name=schema,
                opts=fixed_name(self, providers.sysadmin),
            )
            for schema in WAREHOUSE_SCHEMAS
        }
        self.resource_monitor = snowflake.ResourceMonitor(
            f"{name}-resource-monitor",
            name=names.resource_monitor,
            credit_quota=config.credit_quota,
            notify_triggers=[NOTIFY_AT],
            suspend_trigger=SUSPEND_AT,
            suspend_immediate_trigger=SUSPEND_IMMEDIATELY_AT,
            opts=fixed_name(self, providers.accountadmin),
        )
        self.warehouses = {
            purpose: snowflake.Warehouse(
                f"{name}-warehouse-{purpose}",
                name=warehouse_name,
                warehouse_size=WAREHOUSE_SIZES[purpose],
                auto_suspend=AUTO_SUSPEND_SECONDS,
                auto_resume="true",
                initially_suspended=True,
                statement_timeout_in_seconds=STATEMENT_TIMEOUT_SECONDS[purpose],
                comment=f"ShopStream stack {names.qualified}: {purpose}",
                # Assigned by ACCOUNTADMIN below; SYSADMIN must not try to undo that.
                opts=fixed_name(self, providers.sysadmin, ignore_changes=["resourceMonitor"]),
            )
            for purpose, warehouse_name in names.warehouses.items()
        }
        self.monitor_assignments = [
            snowflake.Execute(
                f"{name}-monitor-{purpose}",
                execute=pulumi.Output.concat(
                    "ALTER WAREHOUSE ",
                    _quoted(warehouse.name),
                    " SET RESOURCE_MONITOR = ",
                    _quoted(self.resource_monitor.name),
                ),
                revert=pulumi.Output.concat(
                    "ALTER WAREHOUSE IF EXISTS ", _quoted(warehouse.name), " UNSET RESOURCE_MONITOR"
                ),
                opts=pulumi.ResourceOptions(parent=self, provider=providers.accountadmin),
            )
            for purpose, warehouse in self.warehouses.items()
        ]
        self.role = snowflake.AccountRole(
            f"{name}-student-role",
            name=names.role,
            comment=f"Works in ShopStream stack {names.qualified}",
            opts=fixed_name(self, providers.useradmin),
        )
        # No password: the student signs in with the key pair whose public half is in the stack's config.
        self.user = snowflake.User(
            f"{name}-student-user",
            name=names.student_user,
            login_name=names.student_user,
            rsa_public_key=config.student_public_key,
            default_role=self.role.name,
            default_warehouse=self.warehouses[DEFAULT_WAREHOUSE].name,
            default_namespace=self.database.name,
            default_secondary_roles_option="NONE",
            comment=f"Student of ShopStream stack {names.qualified}",
            opts=fixed_name(self, providers.useradmin),
        )
        self.grants = self._grant_student_role()
        self.role_memberships = [
            snowflake.GrantAccountRole(
                f"{name}-student-role-to-sysadmin",
                role_name=self.role.name,
                parent_role_name=ADMIN_PARENT_ROLE,
                opts=self._grants_opts,
            ),
            snowflake.GrantAccountRole(
                f"{name}-student-role-to-user",
                role_name=self.role.name,
                user_name=self.user.name,
                opts=self._grants_opts,
            ),
        ]
        if config.snowflake_user:
            self.role_memberships.append(
                snowflake.GrantAccountRole(
                    f"{name}-student-role-to-existing-user",
                    role_name=self.role.name,
                    user_name=config.snowflake_user,
                    opts=self._grants_opts,
                )
            )
        self.register_outputs({"database": self.database.name, "role": self.role.name, "user": self.user.name})

    def _grant(
        self, label: str, role: pulumi.Input[str], privileges: list[str], **on
    ) -> snowflake.GrantPrivilegesToAccountRole:
        return snowflake.GrantPrivilegesToAccountRole(
            f"{self._name}-grant-{label}", account_role_name=role, privileges=privileges, opts=self._grants_opts, **on
        )

    def _on_database(self) -> dict:
        return {
            "on_account_object": snowflake.GrantPrivilegesToAccountRoleOnAccountObjectArgs(
                object_type="DATABASE", object_name=self.database.name
            )
        }

    def _grant_student_role(self) -> list[snowflake.GrantPrivilegesToAccountRole]:
        """Usage and create rights on this stack's database, schemas and warehouses, and nothing outside them."""
        role = self.role.name
        grants = [self._grant("database", role, ["USAGE", "CREATE SCHEMA"], **self._on_database())]
        grants += [
            self._grant(
                f"schema-{schema_name.lower()}",
                role,
                SCHEMA_PRIVILEGES,
                on_schema=snowflake.GrantPrivilegesToAccountRoleOnSchemaArgs(schema_name=schema.fully_qualified_name),
            )
            for schema_name, schema in self.schemas.items()
        ]
        grants += [
            self._grant(
                f"warehouse-{purpose}",
                role,
                ["USAGE", "OPERATE"],
                on_account_object=snowflake.GrantPrivilegesToAccountRoleOnAccountObjectArgs(
                    object_type="WAREHOUSE", object_name=warehouse.name
                ),
            )
            for purpose, warehouse in self.warehouses.items()
        ]
        return grants
