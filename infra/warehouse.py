"""The stack's Snowflake database, schemas, warehouses, cost guard and the student role that does the work.

Objects are owned by the role Pulumi runs as (no ownership transfer), so `pulumi destroy` can always drop them,
including the tables the student role created inside the database.
"""

from __future__ import annotations

import pulumi
import pulumi_snowflake as snowflake

from pipeline.naming import WAREHOUSE_SCHEMAS, StackNames

WAREHOUSE_SIZES = {"loading": "XSMALL", "transform": "SMALL", "bi": "XSMALL"}
AUTO_SUSPEND_SECONDS = 60
# Notify at 75 % of the quota, stop new queries at 100 %, cancel running ones at 110 %.
NOTIFY_AT, SUSPEND_AT, SUSPEND_IMMEDIATELY_AT = 75, 100, 110
# The student role is granted to SYSADMIN so administrators can see and manage what students create.
ADMIN_PARENT_ROLE = "SYSADMIN"

SCHEMA_PRIVILEGES = ["USAGE", "CREATE TABLE", "CREATE VIEW", "CREATE STAGE", "CREATE FILE FORMAT"]


class Warehouse(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        names: StackNames,
        credit_quota: int,
        snowflake_user: str | None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("shopstream:infra:Warehouse", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.database = snowflake.Database(
            f"{name}-database",
            name=names.database,
            drop_public_schema_on_creation=True,
            comment=f"ShopStream stack {names.stack}",
            opts=child,
        )
        self.schemas = {
            schema: snowflake.Schema(
                f"{name}-schema-{schema.lower()}", database=self.database.name, name=schema, opts=child
            )
            for schema in WAREHOUSE_SCHEMAS
        }
        self.resource_monitor = snowflake.ResourceMonitor(
            f"{name}-resource-monitor",
            name=names.resource_monitor,
            credit_quota=credit_quota,
            notify_triggers=[NOTIFY_AT],
            suspend_trigger=SUSPEND_AT,
            suspend_immediate_trigger=SUSPEND_IMMEDIATELY_AT,
            opts=child,
        )
        self.warehouses = {
            purpose: snowflake.Warehouse(
                f"{name}-warehouse-{purpose}",
                name=warehouse_name,
                warehouse_size=WAREHOUSE_SIZES[purpose],
                auto_suspend=AUTO_SUSPEND_SECONDS,
                auto_resume="true",
                initially_suspended=True,
                resource_monitor=self.resource_monitor.name,
                comment=f"ShopStream stack {names.stack}: {purpose}",
                opts=child,
            )
            for purpose, warehouse_name in names.warehouses.items()
        }
        self.role = snowflake.AccountRole(
            f"{name}-student-role", name=names.role, comment=f"Works in ShopStream stack {names.stack}", opts=child
        )
        self.grants = self._grant_student_role(name, child)
        self.role_memberships = [
            snowflake.GrantAccountRole(
                f"{name}-student-role-to-sysadmin",
                role_name=self.role.name,
                parent_role_name=ADMIN_PARENT_ROLE,
                opts=child,
            )
        ]
        if snowflake_user:
            self.role_memberships.append(
                snowflake.GrantAccountRole(
                    f"{name}-student-role-to-user", role_name=self.role.name, user_name=snowflake_user, opts=child
                )
            )
        self.register_outputs({"database": self.database.name, "role": self.role.name})

    def _grant_student_role(
        self, name: str, child: pulumi.ResourceOptions
    ) -> list[snowflake.GrantPrivilegesToAccountRole]:
        """Usage and create rights on this stack's database, schemas and warehouses, and nothing outside them."""
        grants = [
            snowflake.GrantPrivilegesToAccountRole(
                f"{name}-grant-database",
                account_role_name=self.role.name,
                privileges=["USAGE", "CREATE SCHEMA"],
                on_account_object=snowflake.GrantPrivilegesToAccountRoleOnAccountObjectArgs(
                    object_type="DATABASE", object_name=self.database.name
                ),
                opts=child,
            )
        ]
        grants += [
            snowflake.GrantPrivilegesToAccountRole(
                f"{name}-grant-schema-{schema_name.lower()}",
                account_role_name=self.role.name,
                privileges=SCHEMA_PRIVILEGES,
                on_schema=snowflake.GrantPrivilegesToAccountRoleOnSchemaArgs(schema_name=schema.fully_qualified_name),
                opts=child,
            )
            for schema_name, schema in self.schemas.items()
        ]
        grants += [
            snowflake.GrantPrivilegesToAccountRole(
                f"{name}-grant-warehouse-{purpose}",
                account_role_name=self.role.name,
                privileges=["USAGE", "OPERATE"],
                on_account_object=snowflake.GrantPrivilegesToAccountRoleOnAccountObjectArgs(
                    object_type="WAREHOUSE", object_name=warehouse.name
                ),
                opts=child,
            )
            for purpose, warehouse in self.warehouses.items()
        ]
        return grants
