"""The personal-data inventory: the dbt yml tags are complete and docs/privacy.md is generated from them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.privacy import inventory


def test_committed_register_is_generated_from_the_tags() -> None:
    assert inventory.PRIVACY_DOC.read_text() == inventory.render(), "run `shopstream privacy inventory`"


def test_tags_are_a_complete_and_valid_inventory() -> None:
    assert inventory.problems() == []
    tagged = {(c.layer, c.relation, c.column): c.sensitivity for c in inventory.personal_columns()}
    assert tagged[("source", "users", "email")] == "sensitive"
    assert tagged[("source", "crm_contacts", "last_name")] == "sensitive"
    assert tagged[("CORE", "dim_customers", "email")] == "sensitive"
    assert tagged[("MARTS", "mart_customer_ltv", "customer_name")] == "sensitive"
    assert ("MARTS", "mart_customer_ltv", "person_key") in tagged


def test_register_lists_every_personal_column_with_layer_and_protection() -> None:
    text = inventory.render()
    assert "| users | email | `raw/postgres/users/` | contact | sensitive |" in text
    assert "| crm_contacts | email | `raw/crm/` | contact | sensitive | `shopstream forget`: row deleted" in text
    assert "| dim_customers | email | CORE | contact | sensitive |" in text
    assert "masked unless the PII reader role is in session" in text
    assert "`mart_sales_overview.total_revenue`" in text


def _copy_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    models = tmp_path / "models"
    shutil.copytree(inventory.DBT_MODELS, models)
    monkeypatch.setattr(inventory, "DBT_MODELS", models)
    return models


def test_an_untagged_personal_column_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    models = _copy_project(tmp_path, monkeypatch)
    core = models / "core" / "_core.yml"
    text = core.read_text()
    meta = "          meta: {personal_data: {category: contact, sensitivity: sensitive}}\n"
    tag = "      - name: email\n        config:\n" + meta
    assert tag in text
    core.write_text(text.replace(tag, "      - name: email\n"))
    assert inventory.problems() == ["dim_customers.email (CORE) names a person but has no personal_data meta"]
    assert "| dim_customers | email |" not in inventory.render()


def test_an_unknown_sensitivity_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    models = _copy_project(tmp_path, monkeypatch)
    staging = models / "staging" / "_staging.yml"
    staging.write_text(staging.read_text().replace("sensitivity: sensitive", "sensitivity: secret", 1))
    assert any("sensitivity must be one of" in p for p in inventory.problems())
