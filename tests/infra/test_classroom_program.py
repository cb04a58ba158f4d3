"""A whole class under Pulumi's mock runtime: 30 students in each of two cohorts, plus each cohort's course stack.

Every student stack is declared with exactly the config `classroom plan`/`up` computes, so this checks the plan
against the real program: names disjoint across students and cohorts, each stack's names as planned, and the
cohort's grader role reading every student database of its cohort and nothing else. (Mocks stand in for the
engine and providers, which cannot run here; see program.py.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from infra.course import build_course
from pipeline.classroom.keys import public_key_of
from pipeline.classroom.plan import STUDENT_PUBLIC_KEY, ClassPlan, ClassSettings, ConfigEntry, plan_class
from pipeline.classroom.roster import parse_roster
from pipeline.naming import CohortNames
from tests.helpers.infra import SNOWFLAKE_ACCOUNT
from tests.infra.policy_engine import analyze_each, analyze_stack
from tests.infra.program import ProgramRun, run_program

COHORTS = ("fall26", "spring27")
IDS = [f"student{i:02d}" for i in range(25)] + ["Anna Müller", "李雷", "o'Brien, Seán", "x" * 40, "42"]
ROSTER = "student_id,name,email\n" + "".join(f'"{i}",,s{n}@example.edu\n' for n, i in enumerate(IDS))
GRANT = "snowflake:index/grantPrivilegesToAccountRole:GrantPrivilegesToAccountRole"
DATABASE = "snowflake:index/database:Database"
READ_PRIVILEGES = {"USAGE", "SELECT"}


@dataclass
class CohortRun:
    plan: ClassPlan
    course: ProgramRun
    students: dict[str, ProgramRun]


def _config(entries: dict[str, ConfigEntry], public_key: str) -> dict[str, str]:
    return {**SNOWFLAKE_ACCOUNT, **{key: entry.value for key, entry in entries.items()}, STUDENT_PUBLIC_KEY: public_key}


@pytest.fixture(scope="module")
def public_key() -> str:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return public_key_of(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="module")
def cohorts(public_key: str) -> dict[str, CohortRun]:
    runs = {}
    for cohort in COHORTS:
        settings = ClassSettings(instructor_email="teacher@example.edu")
        plan = plan_class(cohort, parse_roster(ROSTER, cohort), f"salt-of-{cohort}", settings)
        course_config = {**_config(plan.course.config, public_key), "shopstream:graderPublicKey": public_key}
        course = run_program(plan.course.stack, course_config, program=build_course)
        students = {p.stack: run_program(p.stack, _config(p.config, public_key)) for p in plan.students}
        runs[cohort] = CohortRun(plan, course, students)
    return runs


def physical_names(run: ProgramRun) -> set[str]:
    """What a stack occupies in the account: buckets, IAM and Snowflake names (qualified where Snowflake nests)."""
    found = set()
    for resource in run.declared:
        name = resource.state.get("fullyQualifiedName") or resource.inputs.get("name")
        if resource.type == "aws:s3/bucket:Bucket":
            name = resource.inputs["bucket"]
        if isinstance(name, str):
            found.add(name.replace('"', ""))
    return found


def referenced_database(grant: dict) -> str:
    """The database a grant's object lives in, whatever form the grant takes."""
    if "onAccountObject" in grant:
        assert grant["onAccountObject"]["objectType"] == "DATABASE", grant
        return grant["onAccountObject"]["objectName"]
    if "onSchema" in grant:
        return re.match(r'"([^"]+)"\.', grant["onSchema"]["schemaName"]).group(1)
    (scope,) = grant["onSchemaObject"].values()
    return scope["inDatabase"]


def test_thirty_students_in_two_cohorts_share_no_physical_name(cohorts: dict[str, CohortRun]):
    owner: dict[str, str] = {}
    runs = [run for cohort in cohorts.values() for run in [cohort.course, *cohort.students.values()]]
    assert len(runs) == 2 * (30 + 1)
    for run in runs:
        names = physical_names(run)
        assert len(names) >= 5, run.stack  # the course stack has 5, a student stack more
        for name in names:
            assert name not in owner, f"{name} is used by {owner[name]} and {run.stack}"
            owner[name] = run.stack


def test_each_student_stack_gets_the_names_and_outputs_its_plan_promised(cohorts: dict[str, CohortRun]):
    for cohort in cohorts.values():
        for plan in cohort.plan.students:
            run = cohort.students[plan.stack]
            declared = physical_names(run)
            # The bucket's suffix hashes the AWS account, known only at `up`: the plan promises its prefix.
            assert run.outputs["lake_bucket"].startswith(plan.names["bucket_prefix"] + "-")
            for key in (
                "iam_user",
                "iam_role",
                "database",
                "role",
                "resource_monitor",
                "storage_integration",
            ):
                assert plan.names[key] in declared, (plan.stack, key)
            assert {plan.names[f"warehouses.{w}"] for w in ("loading", "transform", "bi")} <= declared
            assert run.outputs["snowflake_database"] == plan.names["database"]
            assert run.outputs["variant_seed"] == plan.variant_seed
            assert run.outputs["cohort"] == cohort.plan.cohort
            assert run.outputs["grader_role"] == CohortNames(cohort.plan.cohort).grader_role


def test_the_grader_role_reads_every_student_database_of_its_cohort_and_nothing_else(cohorts: dict[str, CohortRun]):
    for cohort_name, cohort in cohorts.items():
        grader = CohortNames(cohort_name).grader_role
        databases = {run.one(DATABASE).inputs["name"] for run in cohort.students.values()}
        assert len(databases) == 30
        granted: set[str] = set()
        for stack, run in cohort.students.items():
            grants = [g.inputs for g in run.of_type(GRANT) if g.inputs["accountRoleName"] == grader]
            own_database = run.one(DATABASE).inputs["name"]
            assert {referenced_database(grant) for grant in grants} == {own_database}, stack
            assert all(set(grant["privileges"]) <= READ_PRIVILEGES for grant in grants), stack
            assert {p for grant in grants for p in grant["privileges"]} == READ_PRIVILEGES
            # read now and later: existing and future tables and views
            scopes = {
                (kind, scope["objectTypePlural"]) for g in grants for kind, scope in g.get("onSchemaObject", {}).items()
            }
            assert scopes == {("all", "TABLES"), ("future", "TABLES"), ("all", "VIEWS"), ("future", "VIEWS")}
            granted |= {referenced_database(grant) for grant in grants}
        assert granted == databases
        # Outside its cohort, the role appears nowhere; in the course stack it may only use its own warehouse.
        for other_name, other in cohorts.items():
            if other_name != cohort_name:
                for run in other.students.values():
                    assert all(g.inputs["accountRoleName"] != grader for g in run.of_type(GRANT))
        course_grants = [g.inputs for g in cohort.course.of_type(GRANT)]
        assert course_grants == [
            {
                "accountRoleName": grader,
                "privileges": ["USAGE"],
                "onAccountObject": {"objectType": "WAREHOUSE", "objectName": CohortNames(cohort_name).grader_warehouse},
            }
        ]


def test_the_course_stack_holds_the_grader_identity_and_the_budget(cohorts: dict[str, CohortRun], public_key: str):
    course = cohorts["fall26"].course
    names = CohortNames("fall26")
    assert course.one("snowflake:index/accountRole:AccountRole").inputs["name"] == names.grader_role
    user = course.one("snowflake:index/serviceUser:ServiceUser").inputs
    assert user["name"] == names.grader_user and user["rsaPublicKey"] == public_key
    assert user["defaultRole"] == names.grader_role and user["defaultWarehouse"] == names.grader_warehouse
    assert "password" not in user
    memberships = {
        (g.inputs.get("userName"), g.inputs.get("parentRoleName"))
        for g in course.of_type("snowflake:index/grantAccountRole:GrantAccountRole")
    }
    assert memberships == {(names.grader_user, None), (None, "SYSADMIN")}
    warehouse = course.one("snowflake:index/warehouse:Warehouse").inputs
    monitor = course.one("snowflake:index/resourceMonitor:ResourceMonitor").inputs
    assignment = course.one("snowflake:index/execute:Execute").inputs["execute"]
    assert warehouse["warehouseSize"] == "XSMALL"
    assert assignment == f'ALTER WAREHOUSE "{warehouse["name"]}" SET RESOURCE_MONITOR = "{monitor["name"]}"'
    assert monitor["creditQuota"] == 10
    budget = course.one("aws:budgets/budget:Budget")
    assert budget.inputs["name"] == names.budget and budget.inputs["limitAmount"] == "100"
    assert {n["subscriberEmailAddresses"][0] for n in budget.inputs["notifications"]} == {"teacher@example.edu"}
    assert course.outputs["grader_role"] == names.grader_role and course.outputs["grader_user"] == names.grader_user


def test_guardrails_pass_on_the_course_stack_and_a_student_stack_with_grader_access(cohorts: dict[str, CohortRun]):
    """The policy pack as the engine runs it: before each step and on the whole stack after `up`."""
    cohort = cohorts["spring27"]
    for run in (cohort.course, next(iter(cohort.students.values()))):
        assert analyze_each(run) == [], run.stack
        assert analyze_stack(run) == [], run.stack
