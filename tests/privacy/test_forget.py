"""`shopstream forget` on a local stack: real PostgreSQL, lake directory, DuckDB and dbt, through the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import psycopg

from pipeline.lake import Lake, sha256_hex
from pipeline.load import load
from pipeline.privacy import audit
from pipeline.privacy.forget import journals
from tests.helpers.erasure import SHOPSTREAM, ErasureStack, Person
from tests.privacy.scan import lake_hits, name_pairs_in_lake, warehouse_hits, warehouse_rows

TOTALS = (
    "SELECT (SELECT count(*) FROM CORE.fct_orders), (SELECT sum(lines_revenue) FROM CORE.fct_orders),"
    " (SELECT sum(total_revenue) FROM MARTS.mart_sales_overview), (SELECT count(*) FROM CORE.dim_customers)"
)


def _lake_fingerprint(lake: Lake) -> dict[str, str]:
    return {key: sha256_hex(lake.read_bytes(key)) for key in lake.list_files("", suffix="")}


def _assert_gone(stack: ErasureStack, person: Person) -> None:
    settings = stack.settings
    lake = Lake.from_settings(settings.lake)
    full_name = f"{person.first_name} {person.last_name}"
    assert lake_hits(lake, [person.email]) == []
    assert name_pairs_in_lake(lake, person.first_name, person.last_name) == []
    assert warehouse_hits(str(settings.warehouse.path), [person.email, full_name]) == []
    for table in ("RAW.users", "STAGING.stg_users", "CORE.dim_customers"):
        pairs = warehouse_rows(
            str(settings.warehouse.path),
            f"SELECT count(*) FROM {table} WHERE first_name = '{person.first_name}' "
            f"AND last_name = '{person.last_name}'",
        )
        assert pairs == [(0,)], table
    with psycopg.connect(stack.dsn) as conn:
        assert (
            conn.execute("SELECT count(*) FROM crm_contacts WHERE lower(email) = %s", [person.email]).fetchone()[0] == 0
        )
        row = conn.execute("SELECT email, first_name, last_name FROM users WHERE id = %s", [person.user_id]).fetchone()
        assert row[0].endswith("@erased.invalid") and row[1] is None and row[2] is None


def _assert_manifests_match_files(lake: Lake) -> None:
    for key in lake.list_files("raw/_manifests", suffix="manifest.json"):
        for entry in lake.read_json(key)["files"]:
            data = lake.read_bytes(entry["key"])
            assert entry["sha256"] == sha256_hex(data) and entry["bytes"] == len(data), entry["key"]


def test_forget_erases_a_person_everywhere_and_keeps_the_accounts(erasure_stack: ErasureStack) -> None:
    stack, settings = erasure_stack, erasure_stack.settings
    person = stack.unique_people(1)[0]
    lake = Lake.from_settings(settings.lake)
    warehouse = str(settings.warehouse.path)
    assert len(lake_hits(lake, [person.email])) >= 5  # users and CRM on two dates, quarantine copies
    assert warehouse_hits(warehouse, [person.email])
    with psycopg.connect(stack.dsn) as conn:
        orders_before = conn.execute("SELECT count(*), sum(total_amount) FROM orders").fetchone()
    totals_before = warehouse_rows(warehouse, TOTALS)

    result = stack.cli("forget", "--email", person.email.upper(), "--reason", "GDPR art. 17, ticket 118")
    assert result.returncode == 0, result.stderr
    assert "0 copies left" in result.stdout

    _assert_gone(stack, person)
    with psycopg.connect(stack.dsn) as conn:
        assert conn.execute("SELECT count(*), sum(total_amount) FROM orders").fetchone() == orders_before
    assert warehouse_rows(warehouse, TOTALS) == totals_before
    _assert_manifests_match_files(lake)
    assert load(settings).rows_loaded == 0  # the load history knows the rewritten files: nothing reloads

    # The register: one record, chained, counts per layer, and neither the email nor the name anywhere in it.
    register = audit.audit_file(settings)
    text = register.read_text().lower()
    for secret in (person.email, person.first_name.lower(), person.last_name.lower()):
        assert secret not in text
    (record,) = audit.read_records(register)
    assert record["reason"] == "GDPR art. 17, ticket 118" and record["verification"] == {"residual_copies": 0}
    assert record["changes"]["postgres"] == {"users_anonymised": 1, "crm_contacts_deleted": 1}
    assert record["changes"]["lake"]["files_rewritten"] >= 5 and record["changes"]["lake"]["files_deleted"] == 1
    assert record["changes"]["warehouse"]["raw_rows_anonymised"] == 2  # one per loaded date
    assert oct(register.stat().st_mode & 0o777) == "0o600"
    assert audit.verify_chain(register) == []
    report = stack.cli("audit", "report", "--since", "2020-01-01")
    assert report.returncode == 0 and record["request_id"] in report.stdout and person.email not in report.stdout

    # Twice: nothing more changes (files, warehouse, register).
    files_before, register_before = _lake_fingerprint(lake), register.read_text()
    again = stack.cli("forget", "--email", person.email)
    assert again.returncode == 0, again.stderr
    assert f"already erased by request {record['request_id']}" in again.stdout
    assert _lake_fingerprint(lake) == files_before
    assert register.read_text() == register_before
    assert warehouse_rows(warehouse, TOTALS) == totals_before


def test_forget_refuses_unknown_and_ambiguous_input_with_one_line(erasure_stack: ErasureStack) -> None:
    stack = erasure_stack
    with psycopg.connect(stack.dsn) as conn:
        conn.execute(
            "INSERT INTO users (email, first_name, last_name, country) VALUES "
            "('Twin@Example.org', 'A', 'B', 'FR'), ('twin@example.org', 'C', 'D', 'DE')"
        )
    lake = Lake.from_settings(stack.settings.lake)
    before = _lake_fingerprint(lake)
    cases = {
        ("--email", "twin@example.org"): "matches 2 users",
        ("--email", "nobody@example.org"): "matches nobody",
        ("--user-id", "987654"): "user id 987654 matches nobody",
        ("--email", "not-an-email"): "must be one email address",
        (): "say who to forget",
        ("--email", "x@example.org", "--reason", "asked by x@example.org"): "must not contain an email",
    }
    for args, message in cases.items():
        result = stack.cli("forget", *args)
        assert result.returncode == 1, args
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr
    with psycopg.connect(stack.dsn) as conn:
        assert conn.execute("SELECT count(*) FROM users WHERE lower(email) = 'twin@example.org'").fetchone() == (2,)
    assert _lake_fingerprint(lake) == before


def test_forget_killed_mid_way_resumes_and_completes(erasure_stack: ErasureStack) -> None:
    stack, settings = erasure_stack, erasure_stack.settings
    person = stack.unique_people(2)[1]
    process = subprocess.Popen(
        [SHOPSTREAM, "forget", "--stack", settings.stack, "--user-id", str(person.user_id)],
        env=stack.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # kill as soon as the lake is rewritten, before the warehouse is done
        pending = [j for j in journals(settings) if j["status"] != "completed"]
        if pending and "lake" in pending[0]["done"]:
            break
        assert process.poll() is None, process.communicate()
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    (pending,) = [j for j in journals(settings) if j["status"] != "completed"]
    assert "rebuild" not in pending["done"]
    assert warehouse_hits(str(settings.warehouse.path), [person.email])  # the warehouse still has them

    result = stack.cli("forget", "--user-id", str(person.user_id))
    assert result.returncode == 0, result.stderr
    assert f"request {pending['request_id']} (resumed)" in result.stdout
    _assert_gone(stack, person)
    _assert_manifests_match_files(Lake.from_settings(settings.lake))
    record = audit.read_records(audit.audit_file(settings))[-1]
    assert record["request_id"] == pending["request_id"] and record["resumed"] is True
    assert json.dumps(record).lower().find(person.email) == -1


def test_salt_file_is_private_and_stable(erasure_stack: ErasureStack, monkeypatch) -> None:
    from pipeline.privacy.salt import ENV_SALT, privacy_salt, salt_file

    monkeypatch.delenv(ENV_SALT)
    first = privacy_salt(erasure_stack.settings)
    assert privacy_salt(erasure_stack.settings) == first and len(first) == 64
    assert oct(salt_file(erasure_stack.settings).stat().st_mode & 0o777) == "0o600"
    assert Path(salt_file(erasure_stack.settings)).is_relative_to(erasure_stack.settings.home)
