"""What a classroom cohort shares, and the read access each student stack grants to the cohort's grader.

A cohort is one instructor (`course`) stack plus one stack per student (`shopstream classroom up`). The course
stack holds the grader's identity (a role, a key-pair service user, its own small warehouse under its own resource
monitor) and an account-level AWS budget. Each student stack grants the grader role read access to its own
database: the role's name arrives as config (`shopstream:graderRole`), set by `classroom up` from the naming
module after the course stack is up, so a student stack never reads another stack's state.
Both use the same least-privilege providers as a student stack (infra/providers.py).
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_snowflake as snowflake

from infra.providers import SnowflakeProviders, aws_provider, fixed_name, snowflake_providers
from infra.stack_config import aws_region, grader_role, positive_int, snowflake_login
from infra.warehouse import (
    ADMIN_PARENT_ROLE,
    AUTO_SUSPEND_SECONDS,
    NOTIFY_AT,
    STATEMENT_TIMEOUT_SECONDS,
    SUSPEND_AT,
    SUSPEND_IMMEDIATELY_AT,
)
from infra.warehouse import Warehouse as StudentWarehouse
from pipeline.errors import ConfigError
from pipeline.naming import PROJECT, CohortNames, validate_cohort

DEFAULT_COURSE_CREDIT_QUOTA = 10
DEFAULT_COURSE_BUDGET_USD = 100
# E-mail the instructor when the month's actual cost passes 80 % and when the forecast passes 100 %.
BUDGET_ALERTS = (("ACTUAL", 80.0), ("FORECASTED", 100.0))
# What grading reads: tables and views, now and future (dbt recreates them on every build).
READABLE_OBJECTS = ("TABLES", "VIEWS")


def is_course_stack() -> bool:
    """The cohort's instructor stack says so in its config (`shopstream:course true`)."""
    return bool(pulumi.Config(PROJECT).get_bool("course"))


class GraderAccess(pulumi.ComponentResource):
    """Read-only access for the cohort's grader role to one student database: usage and SELECT, nothing else."""

    def __init__(
        self,
        name: str,
        grader_role: str,
        warehouse: StudentWarehouse,
        securityadmin: snowflake.Provider,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("shopstream:infra:GraderAccess", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=securityadmin)
        database = warehouse.database.name

        def grant(label: str, privileges: list[str], **on: object) -> snowflake.GrantPrivilegesToAccountRole:
            return snowflake.GrantPrivilegesToAccountRole(
                f"{name}-{label}", account_role_name=grader_role, privileges=privileges, opts=child, **on
            )

        self.grants = [
            grant(
                "database",
                ["USAGE"],
                on_account_object=snowflake.GrantPrivilegesToAccountRoleOnAccountObjectArgs(
                    object_type="DATABASE", object_name=database
                ),
            )
        ]
        self.grants += [
            grant(
                f"schema-{schema_name.lower()}",
                ["USAGE"],
                on_schema=snowflake.GrantPrivilegesToAccountRoleOnSchemaArgs(schema_name=schema.fully_qualified_name),
            )
            for schema_name, schema in warehouse.schemas.items()
        ]
        for plural in READABLE_OBJECTS:
            objects = snowflake.GrantPrivilegesToAccountRoleOnSchemaObjectAllArgs(
                object_type_plural=plural, in_database=database
            )
            future = snowflake.GrantPrivilegesToAccountRoleOnSchemaObjectFutureArgs(
                object_type_plural=plural, in_database=database
            )
            self.grants += [
                grant(
                    f"select-all-{plural.lower()}",
                    ["SELECT"],
                    on_schema_object=snowflake.GrantPrivilegesToAccountRoleOnSchemaObjectArgs(all=objects),
                ),
                grant(
                    f"select-future-{plural.lower()}",
                    ["SELECT"],
                    on_schema_object=snowflake.GrantPrivilegesToAccountRoleOnSchemaObjectArgs(future=future),
                ),
            ]
        self.register_outputs({"grader_role": grader_role})


def classroom_extras(warehouse: StudentWarehouse, securityadmin: snowflake.Provider) -> dict[str, pulumi.Input]:
    """On a student stack of a cohort: the grader's read access, and the stack's data variant as outputs."""
    config = pulumi.Config(PROJECT)
    outputs: dict[str, pulumi.Input] = {}
    if grader := grader_role(config.get("graderRole")):
        GraderAccess("grader-access", grader, warehouse, securityadmin)
        outputs["grader_role"] = grader
    if (seed := config.get_int("variantSeed")) is not None:
        outputs["variant_seed"] = seed
    if cohort := config.get("cohort"):
        outputs["cohort"] = cohort
    return outputs


class CourseStack(pulumi.ComponentResource):
    """The cohort's grader (role, key-pair service user, warehouse with its own cost guard) and the AWS budget."""

    def __init__(
        self,
        name: str,
        names: CohortNames,
        credit_quota: int,
        budget_usd: int,
        instructor_email: str | pulumi.Output[str] | None,
        grader_public_key: str | None,
        aws_admin: aws.Provider,
        providers: SnowflakeProviders,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("shopstream:infra:CourseStack", name, None, opts)
        grants = pulumi.ResourceOptions(parent=self, provider=providers.securityadmin)
        self.grader_role = snowflake.AccountRole(
            f"{name}-grader-role",
            name=names.grader_role,
            comment=f"Reads every student database of ShopStream cohort {names.cohort}",
            opts=fixed_name(self, providers.useradmin),
        )
        self.role_memberships = [
            snowflake.GrantAccountRole(
                f"{name}-grader-role-to-sysadmin",
                role_name=self.grader_role.name,
                parent_role_name=ADMIN_PARENT_ROLE,
                opts=grants,
            )
        ]
        self.resource_monitor = snowflake.ResourceMonitor(
            f"{name}-grading-monitor",
            name=names.grader_resource_monitor,
            credit_quota=credit_quota,
            notify_triggers=[NOTIFY_AT],
            suspend_trigger=SUSPEND_AT,
            suspend_immediate_trigger=SUSPEND_IMMEDIATELY_AT,
            opts=fixed_name(self, providers.accountadmin),
        )
        self.warehouse = snowflake.Warehouse(
            f"{name}-grading-warehouse",
            name=names.grader_warehouse,
            warehouse_size="XSMALL",
            auto_suspend=AUTO_SUSPEND_SECONDS,
            auto_resume="true",
            initially_suspended=True,
            statement_timeout_in_seconds=STATEMENT_TIMEOUT_SECONDS["bi"],
            comment=f"ShopStream cohort {names.cohort}: grading",
            opts=fixed_name(self, providers.sysadmin, ignore_changes=["resourceMonitor"]),
        )
        # Only ACCOUNTADMIN may assign a resource monitor to a warehouse.
        self.monitor_assignment = snowflake.Execute(
            f"{name}-grading-monitor-assignment",
            execute=pulumi.Output.concat(
                'ALTER WAREHOUSE "', self.warehouse.name, '" SET RESOURCE_MONITOR = "', self.resource_monitor.name, '"'
            ),
            revert=pulumi.Output.concat('ALTER WAREHOUSE IF EXISTS "', self.warehouse.name, '" UNSET RESOURCE_MONITOR'),
            opts=pulumi.ResourceOptions(parent=self, provider=providers.accountadmin),
        )
        self.warehouse_grant = snowflake.GrantPrivilegesToAccountRole(
            f"{name}-grader-warehouse",
            account_role_name=self.grader_role.name,
            privileges=["USAGE"],
            on_account_object=snowflake.GrantPrivilegesToAccountRoleOnAccountObjectArgs(
                object_type="WAREHOUSE", object_name=self.warehouse.name
            ),
            opts=grants,
        )
        self.grader_user: snowflake.ServiceUser | None = None
        if grader_public_key:
            self.grader_user = snowflake.ServiceUser(
                f"{name}-grader-user",
                name=names.grader_user,
                rsa_public_key=grader_public_key,
                default_role=self.grader_role.name,
                default_warehouse=self.warehouse.name,
                comment=f"Grades ShopStream cohort {names.cohort} (key-pair sign-in only)",
                opts=fixed_name(self, providers.useradmin),
            )
            self.role_memberships.append(
                snowflake.GrantAccountRole(
                    f"{name}-grader-role-to-user",
                    role_name=self.grader_role.name,
                    user_name=self.grader_user.name,
                    opts=grants,
                )
            )
        self.budget = aws.budgets.Budget(
            f"{name}-budget",
            name=names.budget,
            budget_type="COST",
            time_unit="MONTHLY",
            limit_amount=str(budget_usd),
            limit_unit="USD",
            notifications=[
                aws.budgets.BudgetNotificationArgs(
                    comparison_operator="GREATER_THAN",
                    notification_type=kind,
                    threshold=threshold,
                    threshold_type="PERCENTAGE",
                    subscriber_email_addresses=[instructor_email],
                )
                for kind, threshold in BUDGET_ALERTS
            ]
            if instructor_email
            else None,
            opts=fixed_name(self, aws_admin),  # tagged by the provider's default tags
        )
        self.register_outputs({"grader_role": self.grader_role.name, "grader_warehouse": self.warehouse.name})


def build_course(stack: str | None = None) -> dict[str, pulumi.Input]:
    """Declare the cohort's instructor stack and return its outputs."""
    stack = stack or pulumi.get_stack()
    config = pulumi.Config(PROJECT)
    cohort = config.get("cohort")
    if not cohort:
        raise ConfigError(f"course stack {stack!r} needs its cohort: `pulumi config set shopstream:cohort NAME`")
    names = CohortNames(validate_cohort(cohort))
    credit_quota = positive_int(config, "creditQuota", DEFAULT_COURSE_CREDIT_QUOTA, "credits per month")
    budget_usd = positive_int(config, "courseBudgetUsd", DEFAULT_COURSE_BUDGET_USD, "US dollars per month")
    tags = {"project": PROJECT, "cohort": cohort, "stack": stack, "owner": config.get("owner") or stack}
    course = CourseStack(
        "course",
        names,
        credit_quota=credit_quota,
        budget_usd=budget_usd,
        instructor_email=config.get_secret("ownerEmail"),
        grader_public_key=config.get("graderPublicKey"),
        aws_admin=aws_provider(aws_region(), tags),
        providers=snowflake_providers(snowflake_login()),
    )
    outputs: dict[str, pulumi.Input] = {
        "stack": stack,
        "cohort": cohort,
        "grader_role": course.grader_role.name,
        "grader_warehouse": course.warehouse.name,
        "budget": course.budget.name,
    }
    if course.grader_user is not None:
        outputs["grader_user"] = course.grader_user.name
    return outputs
