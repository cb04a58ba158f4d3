"""Snowflake governance as data: tag and policy names, their SQL bodies, and what dbt attaches to which column.

The Pulumi program (`infra/governance.py`) declares these objects from here, dbt (`macros/governance.sql`) uses the
same object names after `<database>.CORE.`, and the tests compare both with this module.

- Tag PII_SENSITIVITY (normal / sensitive / very sensitive) on every column with `meta.personal_data`; its
  tag-based masking policy masks sensitive values unless the PII reader role is in the session.
- Tag FINANCIAL on every column with `meta.financial`; its policies return NULL to the junior analyst role.
- Row access policy EU_ONLY on relations with `country_code`: the marketing role sees EU countries only.
- Row access policy MERCHANT_ROWS on relations with `merchant_id`: a merchant role sees the merchant ids the
  mapping table MERCHANT_ACCESS gives it; other roles see every row.
"""

from __future__ import annotations

from pipeline.naming import StackNames

PII_TAG = "PII_SENSITIVITY"
FINANCIAL_TAG = "FINANCIAL"
PII_MASK = "PII_MASK"
FINANCIAL_MASK_NUMBER = "FINANCIAL_MASK_NUMBER"
FINANCIAL_MASK_FLOAT = "FINANCIAL_MASK_FLOAT"
EU_ROW_POLICY = "EU_ONLY"
MERCHANT_ROW_POLICY = "MERCHANT_ROWS"
MERCHANT_ACCESS_TABLE = "MERCHANT_ACCESS"
SENSITIVITY_VALUES = ("normal", "sensitive", "very sensitive")
MASKED = "***MASKED***"

# EU member states (ISO 3166-1 alpha-2). The United Kingdom and Switzerland are not.
EU_COUNTRIES = (
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU",
    "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
)  # fmt: skip


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def pii_mask_body(names: StackNames) -> str:
    roles = names.governance_roles
    return (
        f"CASE WHEN IS_ROLE_IN_SESSION('{roles['pii_reader']}') THEN VAL "
        f"WHEN SYSTEM$GET_TAG_ON_CURRENT_COLUMN('{names.governance_schema}.{PII_TAG}') = 'normal' THEN VAL "
        f"ELSE '{MASKED}' END"
    )


def financial_mask_body(names: StackNames) -> str:
    return f"CASE WHEN IS_ROLE_IN_SESSION('{names.governance_roles['junior_analyst']}') THEN NULL ELSE VAL END"


def eu_only_body(names: StackNames) -> str:
    return (
        f"NOT IS_ROLE_IN_SESSION('{names.governance_roles['marketing']}') "
        f"OR UPPER(COUNTRY_CODE) IN ({_quoted(EU_COUNTRIES)})"
    )


def merchant_rows_body(names: StackNames) -> str:
    mapping = f"{names.governance_schema}.{MERCHANT_ACCESS_TABLE}"
    return (
        f"NOT EXISTS (SELECT 1 FROM {mapping} AS m WHERE m.ROLE_NAME = CURRENT_ROLE()) "
        f"OR EXISTS (SELECT 1 FROM {mapping} AS m WHERE m.ROLE_NAME = CURRENT_ROLE() AND m.MERCHANT_ID = MERCHANT_ID)"
    )
