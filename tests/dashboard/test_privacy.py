"""The dashboard shows no raw email or name by default; an entitled operator can opt in."""

from __future__ import annotations

import pandas as pd

from dashboard.privacy import mask_email, mask_name, mask_people
from pipeline.settings import ENV_SHOW_PII
from tests.helpers.dashboard import warehouse


def test_masks_keep_the_domain_and_initials_only() -> None:
    assert mask_email("ana.lopez@example.com") == "a•••@example.com"
    assert mask_name("Ana María López") == "A. M. L."
    assert mask_email(None) is None
    frame = pd.DataFrame({"email": ["zoe@shop.fr"], "customer_name": ["Zoé Ng"], "country_code": ["FR"]})
    assert mask_people(frame).to_dict("records") == [
        {"email": "z•••@shop.fr", "customer_name": "Z. N.", "country_code": "FR"}
    ]


def test_customers_page_shows_no_raw_email_by_default(app, marts_stack, monkeypatch) -> None:
    monkeypatch.delenv(ENV_SHOW_PII, raising=False)
    emails = {e for (e,) in warehouse(marts_stack, "SELECT email FROM MARTS.mart_customer_ltv")}
    names = {n for (n,) in warehouse(marts_stack, "SELECT customer_name FROM MARTS.mart_customer_ltv")}
    table = app("views/customers.py").dataframe[0].value
    assert len(table) > 0
    assert not set(table["Email"]) & emails
    assert not set(table["Name"]) & names


def test_an_entitled_operator_sees_emails(app, marts_stack, monkeypatch) -> None:
    monkeypatch.setenv(ENV_SHOW_PII, "1")
    emails = {e for (e,) in warehouse(marts_stack, "SELECT email FROM MARTS.mart_customer_ltv")}
    table = app("views/customers.py").dataframe[0].value
    assert set(table["Email"]) <= emails and len(table) > 0
