"""The personal-data inventory, read from the dbt project's yml and the source schema.

A column carries personal data when its yml says so: `config: {meta: {personal_data: {category, sensitivity}}}`.
Financial columns (hidden from junior analysts) say `meta: {financial: true}`. `docs/privacy.md` is generated from
these tags (`shopstream privacy inventory`), so the register, the Snowflake tags dbt attaches and the erasure code
all start from the same facts; a test keeps the committed file in sync.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipeline.extract.schemas import TABLE_SCHEMAS
from pipeline.naming import LAKE_PREFIXES
from pipeline.privacy.erasure import SOURCE_ACTIONS
from pipeline.settings import DBT_PROJECT_DIR, REPO_ROOT

DBT_MODELS = DBT_PROJECT_DIR / "models"
DBT_SNAPSHOTS = DBT_PROJECT_DIR / "snapshots"
PRIVACY_DOC = REPO_ROOT / "docs" / "privacy.md"

SENSITIVITIES = ("normal", "sensitive", "very sensitive")
# Folders of the dbt project and the warehouse schema their models land in.
LAYER_OF_FOLDER = {"staging": "STAGING", "intermediate": "CORE", "core": "CORE", "marts": "MARTS"}
# Column names that always denote a person: an untagged column with one of these names is a mistake.
ALWAYS_PERSONAL = frozenset({"email", "first_name", "last_name", "full_name", "customer_name"})


@dataclass(frozen=True)
class PersonalColumn:
    relation: str  # source table or dbt model/snapshot
    column: str
    layer: str  # PostgreSQL + lake + RAW for sources; STAGING, CORE, MARTS or SNAPSHOTS for models
    category: str
    sensitivity: str

    @property
    def protection(self) -> str:
        return protection(self)


def protection(column: PersonalColumn) -> str:
    """How the column is protected, in the register's words."""
    if column.layer == "source":
        action = SOURCE_ACTIONS.get((column.relation, column.column), "not handled by erasure: add it to erasure.py")
        return f"`shopstream forget`: {action} (PostgreSQL, every lake file incl. quarantine, RAW)"
    steps = []
    if column.category == "pseudonymised":
        steps.append("salted SHA-256 of the email (`person_key` macro); the salt lives outside the repository")
    if column.sensitivity in ("sensitive", "very sensitive"):
        steps.append("Snowflake: tag PII_SENSITIVITY → masked unless the PII reader role is in session")
        steps.append("dashboard masks it by default")
    else:
        steps.append(f"Snowflake: tag PII_SENSITIVITY = '{column.sensitivity}' (not masked)")
    steps.append("rebuilt without the person after `shopstream forget`")
    return "; ".join(steps)


def _yml_files() -> Iterator[tuple[str, Path]]:
    for path in sorted(DBT_MODELS.rglob("*.yml")):
        yield LAYER_OF_FOLDER.get(path.relative_to(DBT_MODELS).parts[0], "?"), path
    for path in sorted(DBT_SNAPSHOTS.rglob("*.yml")) if DBT_SNAPSHOTS.exists() else []:
        yield "SNAPSHOTS", path


def column_meta(column: dict) -> dict:
    """A yml column's meta, wherever dbt allows it (`config.meta`, or the older top-level `meta`)."""
    return {**(column.get("meta") or {}), **((column.get("config") or {}).get("meta") or {})}


def yml_columns() -> Iterator[tuple[str, str, str, dict]]:
    """(layer, relation, column, meta) of every column the dbt yml describes; sources have layer `source`."""
    for layer, path in _yml_files():
        document = yaml.safe_load(path.read_text()) or {}
        for source in document.get("sources", []):
            for table in source.get("tables", []):
                for column in table.get("columns", []):
                    yield "source", table["name"], column["name"], column_meta(column)
        for model in [*document.get("models", []), *document.get("snapshots", [])]:
            for column in model.get("columns", []):
                yield layer, model["name"], column["name"], column_meta(column)


def personal_columns() -> list[PersonalColumn]:
    found = []
    for layer, relation, column, meta in yml_columns():
        tag = meta.get("personal_data")
        if tag:
            found.append(PersonalColumn(relation, column, layer, tag["category"], tag["sensitivity"]))
    return found


def financial_columns() -> list[tuple[str, str]]:
    return [(relation, column) for _, relation, column, meta in yml_columns() if meta.get("financial")]


def problems() -> list[str]:
    """Why the tags are not a trustworthy inventory (empty when they are)."""
    issues = []
    for layer, relation, column, meta in yml_columns():
        tag = meta.get("personal_data")
        if tag is None:
            if column in ALWAYS_PERSONAL:
                issues.append(f"{relation}.{column} ({layer}) names a person but has no personal_data meta")
            continue
        if tag.get("sensitivity") not in SENSITIVITIES:
            issues.append(f"{relation}.{column}: sensitivity must be one of {', '.join(SENSITIVITIES)}")
        if not tag.get("category"):
            issues.append(f"{relation}.{column}: personal_data needs a category")
        if layer == "source" and column not in TABLE_SCHEMAS[relation].names:
            issues.append(f"source {relation} has no column {column}")
        if layer == "source" and (relation, column) not in SOURCE_ACTIONS:
            issues.append(f"source {relation}.{column} is personal but erasure.py does not say what forget does to it")
    return issues


def render() -> str:
    """docs/privacy.md: the register of personal data, generated from the tags."""
    columns = personal_columns()
    tagged_source = {(c.relation, c.column): c for c in columns if c.layer == "source"}
    lines = [
        "# Personal data inventory",
        "",
        "<!-- Generated by `shopstream privacy inventory` from the dbt yml `meta` tags and the source schema;",
        "     edit the tags, not this file (a test keeps it in sync). -->",
        "",
        "ShopStream processes the personal data of its customers (users) and prospects (CRM contacts). Every column",
        "below is tagged in the dbt project (`meta.personal_data`: category and sensitivity: normal, sensitive or",
        "very sensitive). No column is *very sensitive* (no health, payment card or identity-document data).",
        "How a person is erased, the audit register and the Snowflake policies: [governance.md](governance.md).",
        "",
        "## Source tables (PostgreSQL, lake `raw/`, warehouse RAW)",
        "",
        "| Table | Column | Lake prefix | Personal data | Sensitivity | Protection |",
        "|---|---|---|---|---|---|",
    ]
    for table, schema in TABLE_SCHEMAS.items():
        for name in schema.names:
            tag = tagged_source.get((table, name))
            if tag is None:
                continue
            prefix = f"`{LAKE_PREFIXES[table]}/`"
            lines.append(f"| {table} | {name} | {prefix} | {tag.category} | {tag.sensitivity} | {tag.protection} |")
    untagged = {
        table: [n for n in schema.names if (table, n) not in tagged_source] for table, schema in TABLE_SCHEMAS.items()
    }
    lines += ["", "Other source columns (no personal data):", ""]
    lines += [f"- **{table}**: {', '.join(names)}" for table, names in untagged.items() if names]
    lines += [
        "",
        "## Warehouse models",
        "",
        "| Model | Column | Schema | Personal data | Sensitivity | Protection |",
        "|---|---|---|---|---|---|",
    ]
    order = {"STAGING": 0, "CORE": 1, "MARTS": 2, "SNAPSHOTS": 3}
    for c in sorted((c for c in columns if c.layer != "source"), key=lambda c: (order.get(c.layer, 9), c.relation)):
        lines.append(f"| {c.relation} | {c.column} | {c.layer} | {c.category} | {c.sensitivity} | {c.protection} |")
    financial = financial_columns()
    lines += [
        "",
        "## Financial columns (hidden from the junior analyst role)",
        "",
        ", ".join(f"`{relation}.{column}`" for relation, column in financial) + ".",
        "",
    ]
    return "\n".join(lines)


def write(path: Path = PRIVACY_DOC) -> Path:
    path.write_text(render())
    return path
