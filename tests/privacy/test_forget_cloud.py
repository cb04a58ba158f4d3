"""`forget` on a cloud stack's edges: an S3 lake with object versioning (moto's S3 server, a real HTTP endpoint that
does not enforce IAM) and the Snowflake warehouse statements (fakesnow, DuckDB underneath: it proves the SQL and
the data handling, not Snowflake's privileges, Time Travel or Fail-safe, which only a real account has)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.extract import extract
from pipeline.extract.schemas import TABLE_SCHEMAS
from pipeline.generate import generate
from pipeline.lake import Lake, sha256_hex
from pipeline.load import snowflake_sql as sql
from pipeline.privacy.forget import forget
from pipeline.privacy.lake_erasure import Subject
from pipeline.privacy.warehouse_erasure import erase_from_warehouse, residual_copies
from pipeline.settings import ENV_LAKE_URI, ENV_PG_DSN, ENV_S3_ENDPOINT, resolve_settings, settings_from_outputs
from pipeline.warehouse.snowflake import connect
from tests.helpers.cloud import FAKE_AWS, cloud_outputs, fakesnow_endpoint, unique_stack
from tests.helpers.network import moto_s3_server
from tests.helpers.source import create_source_database, drop_source_database

DAY = "2026-11-24"


@pytest.fixture
def versioned_bucket(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    for name, value in FAKE_AWS.items():
        monkeypatch.setenv(name, value)
    with moto_s3_server() as url:
        bucket = f"shopstream-{uuid.uuid4().hex[:10]}-lake"
        client = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
        client.create_bucket(Bucket=bucket)
        client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        yield url, bucket


def _every_version_text(url: str, bucket: str) -> dict[str, str]:
    """`key@version` → the decoded text of every object version in the bucket (Parquet as CSV, else raw bytes)."""
    client = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
    texts = {}
    for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for version in page.get("Versions", []):
            body = client.get_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])["Body"].read()
            try:
                text = pq.read_table(pa.BufferReader(body)).to_pandas().to_csv()
            except (pa.ArrowException, OSError):
                text = body.decode(errors="replace")
            texts[f"{version['Key']}@{version['VersionId']}"] = text.lower()
    return texts


def test_forget_rewrites_the_s3_lake_and_deletes_old_object_versions(
    source_settings, versioned_bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, bucket = versioned_bucket
    dsn = create_source_database(source_settings)
    try:
        monkeypatch.setenv(ENV_PG_DSN, dsn)
        monkeypatch.setenv(ENV_LAKE_URI, f"s3://{bucket}/lake")
        monkeypatch.setenv(ENV_S3_ENDPOINT, url)
        settings = resolve_settings("erasure-s3", create=True)
        settings.home.mkdir(parents=True, exist_ok=True)
        generate(dsn, scale=0.02, seed=5)
        extract(settings, DAY)
        extract(settings, DAY)  # the same date again: S3 keeps the first upload as an older version
        with psycopg.connect(dsn) as conn:
            (email,) = conn.execute(
                "SELECT u.email FROM users u JOIN crm_contacts c ON lower(c.email) = lower(u.email) ORDER BY u.id"
            ).fetchone()
        email = email.lower()
        assert sum(email in text for text in _every_version_text(url, bucket).values()) >= 4

        result = forget(settings, email=email, reason="test")

        lake_changes = result.changes["lake"]
        assert lake_changes["files_rewritten"] == 2 and lake_changes["object_versions_deleted"] >= 2
        assert [key for key, text in _every_version_text(url, bucket).items() if email in text] == []
        lake = Lake.from_settings(settings.lake)
        manifest = lake.read_json(f"raw/_manifests/dt={DAY}/manifest.json")
        for entry in manifest["files"]:
            assert entry["sha256"] == sha256_hex(lake.read_bytes(entry["key"]))
    finally:
        drop_source_database(dsn)


@pytest.fixture
def snowflake_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SHOPSTREAM_HOME", str(tmp_path / "home"))
    with fakesnow_endpoint(monkeypatch):
        stack = unique_stack()
        settings = settings_from_outputs(stack, cloud_outputs(stack), "test outputs")
        database = settings.warehouse.database
        with connect(settings) as connection:
            cursor = connection.cursor()
            cursor.execute(f"CREATE DATABASE IF NOT EXISTS {database}")
            for schema in ("RAW", "STAGING", "CORE", "MARTS"):
                cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {database}.{schema}")
            for table in ("users", "crm_contacts"):
                cursor.execute(sql.create_raw_table(table, TABLE_SCHEMAS[table], database))
            cursor.execute(sql.create_load_errors_table(database))
            cursor.execute(f"CREATE TABLE {database}.CORE.SNP_USERS (USER_ID NUMBER, PLAN_TYPE VARCHAR)")
            users = [(1, "Ana@Example.com", "Ana", "Lopez"), (2, "bo@example.com", "Bo", "Ng")]
            for uid, mail, first, last in users:
                cursor.execute(
                    f"INSERT INTO {database}.RAW.USERS (ID, EMAIL, FIRST_NAME, LAST_NAME, COUNTRY, PLAN_TYPE) "
                    "VALUES (%s, %s, %s, %s, 'FR', 'premium')",
                    (uid, mail, first, last),
                )
                cursor.execute(f"INSERT INTO {database}.CORE.SNP_USERS VALUES (%s, 'premium')", (uid,))
            cursor.execute(
                f"INSERT INTO {database}.RAW.CRM_CONTACTS (ID, EMAIL, SOURCE) VALUES (7, ' ana@example.com', 'organic')"
            )
            cursor.execute(
                f"INSERT INTO {database}.RAW._LOAD_ERRORS (TABLE_NAME, REJECTED_RECORD) "
                "VALUES ('users', '1,ana@example.com,Ana')"
            )
        yield settings


def test_forget_statements_on_snowflake(snowflake_settings) -> None:
    settings = snowflake_settings
    subject = Subject(frozenset({1}), frozenset({"ana@example.com"}), "erased+r1@erased.invalid")
    found = residual_copies(settings, subject)
    assert sorted(f.upper() for f in found) == [
        "RAW.CRM_CONTACTS.EMAIL",
        "RAW.USERS.EMAIL",
        "RAW._LOAD_ERRORS.REJECTED_RECORD",
    ], found

    result = erase_from_warehouse(settings, subject, {})

    assert result == {
        "raw_rows_anonymised": 1,
        "raw_rows_deleted": 2,
        "history_rows_deleted": 1,
        "load_history_updated": 0,
    }
    assert residual_copies(settings, subject) == []
    database = settings.warehouse.database
    with connect(settings) as connection:
        rows = connection.cursor().execute(f"SELECT ID, EMAIL, FIRST_NAME FROM {database}.RAW.USERS ORDER BY ID")
        assert rows.fetchall() == [(1, "erased+r1@erased.invalid", None), (2, "bo@example.com", "Bo")]
    assert erase_from_warehouse(settings, subject, {})["raw_rows_anonymised"] == 0  # twice: nothing more
