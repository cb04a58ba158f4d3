"""Data governance of a stack's Snowflake database: reader roles, tags, tag-based masking and row access policies.

The definitions (names, SQL bodies) come from `pipeline.privacy.policies`; dbt attaches the tags and row access
policies to the relations it builds (macros/governance.sql), so a column tagged in yml is protected with no new
code. The student role, which runs dbt and must hash emails, holds the PII reader role.
"""

from __future__ import annotations

import pulumi
import pulumi_snowflake as snowflake

from infra.providers import SnowflakeProviders, fixed_name
from infra.warehouse import Warehouse
from pipeline.naming import StackNames
from pipeline.privacy import policies


def merchant_ids_from_config() -> tuple[int, ...]:
    """`shopstream:merchants`: the merchant ids that get a role of their own (e.g. `[1, 2]`); none by default."""
    value = pulumi.Config("shopstream").get_object("merchants") or []
    return tuple(int(merchant_id) for merchant_id in value)


class Governance(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        names: StackNames,
        warehouse: Warehouse,
        providers: SnowflakeProviders,
        merchant_ids: tuple[int, ...] = (),
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("shopstream:infra:Governance", name, None, opts)
        # Least privilege, as in infra/providers.py: USERADMIN creates roles, SYSADMIN (the database owner) the
        # tags, policies and mapping table, SECURITYADMIN grants.
        child = pulumi.ResourceOptions(parent=self, provider=providers.securityadmin)
        role_opts = fixed_name(self, providers.useradmin)
        database, schema = warehouse.database.name, warehouse.schemas["CORE"].name
        self.roles = {
            purpose: snowflake.AccountRole(
                f"{name}-role-{purpose.replace('_', '-')}",
                name=role,
                comment=f"ShopStream stack {names.stack}: {purpose.replace('_', ' ')}",
                opts=role_opts,
            )
            for purpose, role in names.governance_roles.items()
        }
        # dbt hashes emails into person keys: the role that runs it must read them in clear.
        self.pii_to_student = snowflake.GrantAccountRole(
            f"{name}-pii-reader-to-student",
            role_name=self.roles["pii_reader"].name,
            parent_role_name=warehouse.role.name,
            opts=child,
        )

        def policy_options(*depends: pulumi.Resource) -> pulumi.ResourceOptions:
            # Fixed physical names: a replacement must drop the old object before creating the new one.
            return fixed_name(self, providers.sysadmin, depends_on=list(depends))

        self.pii_mask = snowflake.MaskingPolicy(
            f"{name}-pii-mask",
            name=policies.PII_MASK,
            database=database,
            schema=schema,
            arguments=[{"name": "VAL", "type": "VARCHAR"}],
            return_data_type="VARCHAR",
            body=policies.pii_mask_body(names),
            comment="Personal data in clear for the PII reader role only",
            opts=policy_options(*self.roles.values()),
        )
        self.financial_masks = [
            snowflake.MaskingPolicy(
                f"{name}-financial-mask-{kind.lower()}",
                name=policy,
                database=database,
                schema=schema,
                arguments=[{"name": "VAL", "type": kind}],
                return_data_type=kind,
                body=policies.financial_mask_body(names),
                comment="Revenue and margin hidden from the junior analyst role",
                opts=policy_options(*self.roles.values()),
            )
            for kind, policy in (("NUMBER", policies.FINANCIAL_MASK_NUMBER), ("FLOAT", policies.FINANCIAL_MASK_FLOAT))
        ]
        self.pii_tag = snowflake.Tag(
            f"{name}-tag-pii",
            name=policies.PII_TAG,
            database=database,
            schema=schema,
            allowed_values=list(policies.SENSITIVITY_VALUES),
            masking_policies=[f"{names.governance_schema}.{policies.PII_MASK}"],
            comment="Sensitivity of personal data (from the dbt yml meta.personal_data)",
            opts=policy_options(self.pii_mask),
        )
        self.financial_tag = snowflake.Tag(
            f"{name}-tag-financial",
            name=policies.FINANCIAL_TAG,
            database=database,
            schema=schema,
            allowed_values=["true"],
            masking_policies=[
                f"{names.governance_schema}.{policy}"
                for policy in (policies.FINANCIAL_MASK_NUMBER, policies.FINANCIAL_MASK_FLOAT)
            ],
            comment="Revenue and margin columns (from the dbt yml meta.financial)",
            opts=policy_options(*self.financial_masks),
        )
        self.eu_only = snowflake.RowAccessPolicy(
            f"{name}-row-eu-only",
            name=policies.EU_ROW_POLICY,
            database=database,
            schema=schema,
            arguments=[{"name": "COUNTRY_CODE", "type": "VARCHAR"}],
            body=policies.eu_only_body(names),
            comment="The marketing role sees EU countries only",
            opts=policy_options(*self.roles.values()),
        )
        # An Execute, not snowflake.Table: the pinned provider gates its Table resource behind a preview flag.
        mapping_table = f"{names.governance_schema}.{policies.MERCHANT_ACCESS_TABLE}"
        self.merchant_access = snowflake.Execute(
            f"{name}-merchant-access",
            execute=f"CREATE TABLE IF NOT EXISTS {mapping_table} (ROLE_NAME VARCHAR(256) NOT NULL, "
            "MERCHANT_ID NUMBER(38,0) NOT NULL) COMMENT = 'Which merchant ids each merchant role may see'",
            revert=f"DROP TABLE IF EXISTS {mapping_table}",
            opts=policy_options(),
        )
        self.merchant_roles = [
            snowflake.AccountRole(
                f"{name}-role-merchant-{merchant_id}", name=names.merchant_role(merchant_id), opts=role_opts
            )
            for merchant_id in merchant_ids
        ]
        rows = ", ".join(f"('{names.merchant_role(m)}', {m})" for m in merchant_ids)
        table = f"{names.governance_schema}.{policies.MERCHANT_ACCESS_TABLE}"
        self.merchant_mapping = (
            snowflake.Execute(
                f"{name}-merchant-access-rows",
                execute=f"INSERT INTO {table} (ROLE_NAME, MERCHANT_ID) VALUES {rows}",
                revert=f"DELETE FROM {table}",
                query=f"SELECT ROLE_NAME, MERCHANT_ID FROM {table} ORDER BY MERCHANT_ID",
                opts=policy_options(self.merchant_access, *self.merchant_roles),
            )
            if merchant_ids
            else None
        )
        self.merchant_rows = snowflake.RowAccessPolicy(
            f"{name}-row-merchant",
            name=policies.MERCHANT_ROW_POLICY,
            database=database,
            schema=schema,
            arguments=[{"name": "MERCHANT_ID", "type": "NUMBER"}],
            body=policies.merchant_rows_body(names),
            comment="A merchant role sees only its merchant ids (MERCHANT_ACCESS)",
            opts=policy_options(self.merchant_access),
        )
        # The student role runs dbt, which attaches the tags and row access policies to what it builds.
        self.apply_grants = [
            snowflake.GrantPrivilegesToAccountRole(
                f"{name}-grant-student-apply-{kind.lower().replace(' ', '-')}-{obj.lower().replace('_', '-')}",
                account_role_name=warehouse.role.name,
                privileges=["APPLY"],
                on_schema_object=snowflake.GrantPrivilegesToAccountRoleOnSchemaObjectArgs(
                    object_type=kind, object_name=f"{names.governance_schema}.{obj}"
                ),
                opts=pulumi.ResourceOptions(parent=self, provider=providers.securityadmin, depends_on=[dep]),
            )
            for kind, obj, dep in (
                ("TAG", policies.PII_TAG, self.pii_tag),
                ("TAG", policies.FINANCIAL_TAG, self.financial_tag),
                ("ROW ACCESS POLICY", policies.EU_ROW_POLICY, self.eu_only),
                ("ROW ACCESS POLICY", policies.MERCHANT_ROW_POLICY, self.merchant_rows),
            )
        ]
        readers = {
            **{purpose.replace("_", "-"): role for purpose, role in self.roles.items()},
            **{f"merchant-{m}": role for m, role in zip(merchant_ids, self.merchant_roles, strict=True)},
        }
        self.reader_grants = [
            grant for key, role in readers.items() for grant in self._grant_reader(name, key, role, warehouse, child)
        ]
        self.register_outputs({"roles": {k: r.name for k, r in self.roles.items()}})

    def _grant_reader(
        self, name: str, key: str, role: snowflake.AccountRole, warehouse: Warehouse, child: pulumi.ResourceOptions
    ) -> list[snowflake.GrantPrivilegesToAccountRole]:
        """What a reader needs to query the marts (and nothing else): database and MARTS usage, SELECT on the marts
        dbt creates (future grants), the BI warehouse. The policies then decide what each reader sees."""
        marts = warehouse.schemas["MARTS"]
        return [
            snowflake.GrantPrivilegesToAccountRole(
                f"{name}-grant-{key}-database",
                account_role_name=role.name,
                privileges=["USAGE"],
                on_account_object=snowflake.GrantPrivilegesToAccountRoleOnAccountObjectArgs(
                    object_type="DATABASE", object_name=warehouse.database.name
                ),
                opts=child,
            ),
            snowflake.GrantPrivilegesToAccountRole(
                f"{name}-grant-{key}-marts",
                account_role_name=role.name,
                privileges=["USAGE"],
                on_schema=snowflake.GrantPrivilegesToAccountRoleOnSchemaArgs(schema_name=marts.fully_qualified_name),
                opts=child,
            ),
            snowflake.GrantPrivilegesToAccountRole(
                f"{name}-grant-{key}-marts-tables",
                account_role_name=role.name,
                privileges=["SELECT"],
                on_schema_object=snowflake.GrantPrivilegesToAccountRoleOnSchemaObjectArgs(
                    future=snowflake.GrantPrivilegesToAccountRoleOnSchemaObjectFutureArgs(
                        object_type_plural="TABLES", in_schema=marts.fully_qualified_name
                    )
                ),
                opts=child,
            ),
            snowflake.GrantPrivilegesToAccountRole(
                f"{name}-grant-{key}-warehouse",
                account_role_name=role.name,
                privileges=["USAGE"],
                on_account_object=snowflake.GrantPrivilegesToAccountRoleOnAccountObjectArgs(
                    object_type="WAREHOUSE", object_name=warehouse.warehouses["bi"].name
                ),
                opts=child,
            ),
        ]
