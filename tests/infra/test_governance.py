"""The governance component under Pulumi's mock runtime: roles, tags, tag-based masking, row access policies and the
merchant mapping, as the program declares them. The mocks cannot evaluate a policy: whether Snowflake masks a value
or filters a row for a role is verified only on a real account (see docs/governance.md)."""

from __future__ import annotations

import pytest

from pipeline.naming import StackNames
from pipeline.privacy import policies
from tests.helpers.infra import COHORT, stack_config
from tests.infra.program import AWS_ACCOUNT_ID, ProgramRun, run_program

CAROL = StackNames("carol", COHORT, AWS_ACCOUNT_ID)

MASKING = "snowflake:index/maskingPolicy:MaskingPolicy"
ROW_ACCESS = "snowflake:index/rowAccessPolicy:RowAccessPolicy"
TAG = "snowflake:index/tag:Tag"


@pytest.fixture(scope="module")
def carol() -> ProgramRun:
    return run_program("carol", stack_config(merchants="[3, 7]"))


def _by_name(run: ProgramRun, typ: str) -> dict[str, dict]:
    return {r.inputs["name"]: r.inputs for r in run.of_type(typ)}


def test_reader_roles_exist_and_the_student_role_reads_pii(carol: ProgramRun) -> None:
    names = CAROL
    roles = {r.inputs["name"] for r in carol.of_type("snowflake:index/accountRole:AccountRole")}
    assert set(names.governance_roles.values()) | {names.merchant_role(3), names.merchant_role(7)} <= roles
    grants = [
        (g.inputs["role_name"] if "role_name" in g.inputs else g.inputs["roleName"], g.inputs.get("parentRoleName"))
        for g in carol.of_type("snowflake:index/grantAccountRole:GrantAccountRole")
    ]
    assert (names.governance_roles["pii_reader"], names.role) in grants
    # No other reader role is granted to the student: they are for people, not for the pipeline.
    assert not {names.governance_roles["marketing"], names.governance_roles["junior_analyst"]} & {g for g, _ in grants}


def test_tags_carry_their_masking_policies(carol: ProgramRun) -> None:
    names = CAROL
    tags = _by_name(carol, TAG)
    pii, financial = tags[policies.PII_TAG], tags[policies.FINANCIAL_TAG]
    assert pii["allowedValues"] == ["normal", "sensitive", "very sensitive"]
    assert pii["maskingPolicies"] == [f"{names.database}.CORE.PII_MASK"]
    assert financial["maskingPolicies"] == [
        f"{names.database}.CORE.FINANCIAL_MASK_NUMBER",
        f"{names.database}.CORE.FINANCIAL_MASK_FLOAT",
    ]
    assert {t["database"] for t in tags.values()} == {names.database} and {t["schema"] for t in tags.values()} == {
        "CORE"
    }


def test_masking_policies_unmask_for_the_entitled_role_only(carol: ProgramRun) -> None:
    roles = CAROL.governance_roles
    masks = _by_name(carol, MASKING)
    pii = masks[policies.PII_MASK]
    assert pii["returnDataType"] == "VARCHAR" and pii["arguments"] == [{"name": "VAL", "type": "VARCHAR"}]
    assert f"IS_ROLE_IN_SESSION('{roles['pii_reader']}') THEN VAL" in pii["body"]
    assert "= 'normal' THEN VAL" in pii["body"] and "ELSE '***MASKED***'" in pii["body"]
    for name, kind in ((policies.FINANCIAL_MASK_NUMBER, "NUMBER"), (policies.FINANCIAL_MASK_FLOAT, "FLOAT")):
        assert masks[name]["returnDataType"] == kind
        assert (
            masks[name]["body"] == f"CASE WHEN IS_ROLE_IN_SESSION('{roles['junior_analyst']}') THEN NULL ELSE VAL END"
        )


def test_row_access_policies_and_merchant_mapping(carol: ProgramRun) -> None:
    names = CAROL
    rows = _by_name(carol, ROW_ACCESS)
    eu = rows[policies.EU_ROW_POLICY]
    assert eu["arguments"] == [{"name": "COUNTRY_CODE", "type": "VARCHAR"}]
    assert f"NOT IS_ROLE_IN_SESSION('{names.governance_roles['marketing']}')" in eu["body"]
    assert "'FR'" in eu["body"] and "'DE'" in eu["body"] and "'GB'" not in eu["body"] and "'US'" not in eu["body"]
    merchant = rows[policies.MERCHANT_ROW_POLICY]
    assert f"{names.database}.CORE.MERCHANT_ACCESS" in merchant["body"] and "CURRENT_ROLE()" in merchant["body"]
    table = carol.named("governance-merchant-access").inputs
    assert table["execute"].startswith(f"CREATE TABLE IF NOT EXISTS {names.database}.CORE.MERCHANT_ACCESS (")
    assert table["revert"] == f"DROP TABLE IF EXISTS {names.database}.CORE.MERCHANT_ACCESS"
    execute = carol.named("governance-merchant-access-rows").inputs
    assert execute["execute"] == (
        f"INSERT INTO {names.database}.CORE.MERCHANT_ACCESS (ROLE_NAME, MERCHANT_ID) VALUES "
        f"('{names.merchant_role(3)}', 3), ('{names.merchant_role(7)}', 7)"
    )
    assert execute["revert"] == f"DELETE FROM {names.database}.CORE.MERCHANT_ACCESS"


def test_governance_objects_are_children_of_their_component(carol: ProgramRun) -> None:
    carol.one("shopstream:infra:Governance")
    for typ in (MASKING, ROW_ACCESS, TAG):
        assert carol.of_type(typ) and all("shopstream:infra:Governance$" in r.urn for r in carol.of_type(typ))


def test_without_merchants_there_is_no_mapping_row(bob: ProgramRun) -> None:
    assert not [e for e in bob.of_type("snowflake:index/execute:Execute") if e.name.endswith("merchant-access-rows")]
    assert len(bob.of_type(ROW_ACCESS)) == 2


def test_readers_may_query_the_marts_and_nothing_more(carol: ProgramRun) -> None:
    names = CAROL
    grants = carol.of_type("snowflake:index/grantPrivilegesToAccountRole:GrantPrivilegesToAccountRole")
    marketing = [g.inputs for g in grants if g.inputs["accountRoleName"] == names.governance_roles["marketing"]]
    assert sorted(tuple(g["privileges"]) for g in marketing) == [("SELECT",), ("USAGE",), ("USAGE",), ("USAGE",)]
    schemas = {g["onSchema"]["schemaName"] for g in marketing if "onSchema" in g}
    assert schemas == {f'"{names.database}"."MARTS"'}
    future = next(g["onSchemaObject"]["future"] for g in marketing if "onSchemaObject" in g)
    assert future == {"objectTypePlural": "TABLES", "inSchema": f'"{names.database}"."MARTS"'}
    warehouses = {g["onAccountObject"]["objectName"] for g in marketing if "onAccountObject" in g}
    assert warehouses == {names.database, names.warehouses["bi"]}
    merchant = {g.inputs["accountRoleName"] for g in grants} & {names.merchant_role(3), names.merchant_role(7)}
    assert len(merchant) == 2
