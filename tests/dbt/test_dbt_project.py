"""The dbt project and its runner on a hand-made RAW layer (real dbt, real DuckDB; no PostgreSQL needed).

RAW holds three full snapshots (one deleting a user, the last loaded a back-filled older partition), so staging's
choice of the latest snapshot is exercised. One test breaks an order total so a reconciliation test must fail, be
named, and stop dbt from building on top of it.
"""

from __future__ import annotations

import gc
import json
import os
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipeline.errors import ConfigError, ShopstreamError
from pipeline.naming import DUCKDB_FILE, StackNames
from pipeline.privacy.salt import ENV_SALT
from pipeline.settings import (
    ENV_CACHE_HOME,
    ENV_HOME,
    DuckDBWarehouse,
    LakeSettings,
    Settings,
    SnowflakeWarehouse,
    SourceSettings,
)
from pipeline.transform import (
    DBT_PROJECT_DIR,
    TransformError,
    TransformReport,
    UnitTests,
    build,
    dbt_env,
    docs,
    fingerprint,
    parse_cache,
    parse_inputs,
    prepared_project,
    unit_tests,
)
from tests.dbt.raw_bootstrap import DELETED_USER, completed_revenue, write_raw


def local_stack(home: Path, stack: str = "dbtproj") -> Settings:
    names = StackNames(stack)
    return Settings(
        stack=stack,
        origin="test",
        home=home,
        source=SourceSettings(database=names.postgres_database),
        lake=LakeSettings(uri=str(home / "lake")),
        warehouse=DuckDBWarehouse(path=home / DUCKDB_FILE),
    )


def query(settings: Settings, sql: str) -> list[tuple]:
    con = duckdb.connect(str(settings.warehouse.path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def execute(settings: Settings, sql: str) -> None:
    con = duckdb.connect(str(settings.warehouse.path))
    try:
        con.execute(sql)
    finally:
        con.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dict, TransformReport, list]:
    """One full `dbt build` on the hand-made RAW, shared by the module (unit tests included, even when another
    module of this session already ran them)."""
    settings = local_stack(tmp_path_factory.mktemp("stack"))
    latest = write_raw(settings.warehouse.path)
    progress: list[tuple[str, int, int, bool]] = []  # and whether the garbage collector was on at that node
    report = build(
        settings,
        progress=lambda what, done, total: progress.append((what, done, total, gc.isenabled())),
        unit_tests=UnitTests.ALWAYS,
    )
    return settings, latest, report, progress


def test_build_runs_every_model_test_and_unit_test(built):
    _, _, report, progress = built
    assert report.ok and report.target == "local"
    kinds = {
        kind: sum(1 for n in report.nodes if n.resource_type == kind)
        for kind in ("model", "snapshot", "test", "unit_test")
    }
    assert kinds["model"] == len(list((DBT_PROJECT_DIR / "models").rglob("*.sql")))
    assert kinds["snapshot"] == len(list((DBT_PROJECT_DIR / "snapshots").rglob("*.sql")))
    assert report.models_built == kinds["model"] + kinds["snapshot"]  # every model and snapshot built
    assert kinds["unit_test"] == 8
    assert report.tests_passed == kinds["test"] + kinds["unit_test"]
    assert report.tests_failed == report.tests_warned == report.skipped == 0
    assert report.node("rfm_scores_and_segments").status == "pass"
    assert all(node.seconds >= 0 for node in report.nodes)
    total = len(report.nodes)
    assert sorted(done for _, done, _, _ in progress) == list(range(1, total + 1))  # one call per finished node
    assert {reported_total for _, _, reported_total, _ in progress} == {total}
    # The collector is paused while dbt runs (it would scan dbt's objects some 900 times) and resumed after.
    assert not any(collecting for *_, collecting in progress) and gc.isenabled()


def test_staging_reflects_the_latest_snapshot_of_each_table(built):
    """Deleted source rows leave staging, and the latest extraction date wins over the latest load."""
    settings, latest, _, _ = built
    snapshots = query(settings, "SELECT DISTINCT _source_file, _loaded_at FROM RAW.orders ORDER BY _loaded_at")
    assert [path.split("/")[2] for path, _ in snapshots] == ["dt=2025-03-01", "dt=2025-03-02", "dt=2025-02-28"]
    staged = dict(query(settings, "SELECT order_id, order_status FROM STAGING.stg_orders"))
    assert staged == {row["id"]: row["status"].upper() for row in latest["orders"]}  # not the back-filled statuses
    users = {user_id for (user_id,) in query(settings, "SELECT user_id FROM STAGING.stg_users")}
    assert DELETED_USER not in users and users == {row["id"] for row in latest["users"]}
    assert query(settings, f"SELECT count(*) FROM CORE.dim_customers WHERE customer_key = {DELETED_USER}") == [(0,)]
    # Staging views join RAW to a materialised list of the latest snapshot's files; they rank no history.
    compiled = settings.home / "dbt" / "target" / "compiled" / "shopstream" / "models" / "staging"
    assert not any("row_number" in path.read_text() for path in compiled.glob("stg_*.sql"))


def test_a_rejected_row_in_the_latest_snapshot_fails_the_build(built):
    """A row the loader rejected must not look deleted: RAW._LOAD_ERRORS (the Snowflake loader's record) for the
    latest snapshot stops the build before staging; an error of an older snapshot does not."""
    settings, _, _, _ = built
    execute(
        settings,
        """CREATE TABLE RAW._LOAD_ERRORS (TABLE_NAME VARCHAR, FILE_NAME VARCHAR, ROW_NUMBER BIGINT,
           COLUMN_NAME VARCHAR, ERROR VARCHAR, REJECTED_RECORD VARCHAR, EXTRACT_DATE VARCHAR, LOGGED_AT TIMESTAMP);
           INSERT INTO RAW._LOAD_ERRORS VALUES ('ORDERS', 'raw/orders/dt=2025-03-01/part-0000.parquet', 7,
           'TOTAL_AMOUNT', 'Numeric value is out of range', NULL, '2025-03-01', TIMESTAMP '2025-03-01 06:00:00')""",
    )
    try:
        assert build(settings, select="stg_load_snapshots stg_orders").ok  # an older snapshot: nothing to hide
        execute(
            settings,
            """INSERT INTO RAW._LOAD_ERRORS VALUES ('ORDERS', 'raw/orders/dt=2025-03-02/part-0000.parquet', 9,
               'TOTAL_AMOUNT', 'Numeric value is out of range', NULL, '2025-03-02', TIMESTAMP '2025-03-02 06:00:00')""",
        )
        with pytest.raises(TransformError) as failure:
            build(settings, select="stg_load_snapshots stg_orders")
    finally:
        execute(settings, "DROP TABLE RAW._LOAD_ERRORS")
    report = failure.value.report
    assert report.node("assert_latest_snapshots_have_no_rejected_rows").failures == 1
    assert report.node("stg_orders").status == "skipped"


def test_cleaning_rules(built):
    settings, latest, _, _ = built
    emails = dict(query(settings, "SELECT user_id, email FROM STAGING.stg_users"))
    assert emails == {row["id"]: row["email"].strip().lower() for row in latest["users"]}
    assert query(settings, "SELECT DISTINCT payment_method FROM STAGING.stg_orders ORDER BY 1") == [
        ("credit_card",),
        ("paypal",),
        ("stripe",),
    ]
    add_to_cart = query(
        settings,
        "SELECT product_id, quantity, session_id, device FROM STAGING.stg_events WHERE event_type = 'add_to_cart'",
    )
    expected = {
        (meta["product_id"], meta["quantity"], meta["session_id"], meta["device"])
        for meta in (json.loads(e["metadata"]) for e in latest["events"] if e["event_type"] == "add_to_cart")
    }
    assert set(add_to_cart) == expected


def test_models_land_in_exact_schemas(built):
    settings, _, _, _ = built
    rows = query(settings, "SELECT table_schema, table_name, table_type FROM information_schema.tables")
    placed = {name: (schema, kind) for schema, name, kind in rows}
    assert placed["stg_orders"] == ("STAGING", "VIEW")
    assert placed["stg_load_snapshots"] == ("STAGING", "BASE TABLE")
    assert placed["dim_customers"] == ("CORE", "BASE TABLE")
    assert placed["mart_sales_overview"] == ("MARTS", "BASE TABLE")
    assert {schema for schema, _ in placed.values()} == {"RAW", "STAGING", "CORE", "MARTS"}


def test_calendar_spans_the_data_without_the_wall_clock(built):
    settings, latest, _, _ = built
    days = (
        [o["created_at"] for o in latest["orders"]]
        + [u["created_at"] for u in latest["users"]]
        + [e["event_ts"] for e in latest["events"]]
        + [c["created_at"] for c in latest["crm_contacts"]]
    )
    ((count, low, high, as_of),) = query(
        settings,
        """SELECT count(*), min(date_key), max(date_key), (SELECT as_of_date FROM CORE.int_as_of_date)
           FROM CORE.dim_date""",
    )
    assert (low, high, as_of) == (min(days).date(), max(days).date(), max(days).date())
    assert count == (high - low).days + 1
    weeks = query(settings, "SELECT DISTINCT dayname(week_start) FROM CORE.dim_date")
    assert weeks == [("Monday",)]


def test_a_past_as_of_date_gives_the_marts_as_they_were(built, tmp_path):
    """Every fact and dimension is bounded to as_of_date: no negative recency, no later customer, order or session,
    and lifetime value is the revenue of the orders placed up to that day. (Built on a copy of the module's
    warehouse, which the other tests read as the default build left it.)"""
    built_settings, latest, _, _ = built
    settings = local_stack(tmp_path)
    shutil.copyfile(built_settings.warehouse.path, settings.warehouse.path)
    as_of = date(2024, 9, 30)
    assert build(settings, as_of_date=str(as_of), exclude="resource_type:unit_test").ok
    ((customers, min_recency, first_orders, ltv),) = query(
        settings,
        """SELECT count(*), min(recency_days), max(first_order_date), sum(lifetime_value)
           FROM MARTS.mart_customer_ltv""",
    )
    kept = {
        table: [row for row in latest[table] if row[column].date() <= as_of]
        for table, column in (("orders", "created_at"), ("users", "created_at"), ("events", "event_ts"))
    }
    buyers = {o["user_id"] for o in kept["orders"] if o["status"] in ("paid", "shipped", "delivered")}
    assert min_recency >= 0 and first_orders <= as_of and customers == len(buyers)
    assert ltv == completed_revenue({"orders": kept["orders"], "order_items": latest["order_items"]})
    assert query(settings, "SELECT count(*) FROM CORE.dim_customers") == [(len(kept["users"]),)]
    assert query(settings, "SELECT count(*), max(date_key) FROM CORE.fct_orders") == [
        (len(kept["orders"]), max(o["created_at"] for o in kept["orders"]).date())
    ]
    assert query(settings, "SELECT max(date_key) FROM CORE.dim_date") == [(as_of,)]
    sessions = {json.loads(e["metadata"])["session_id"] for e in kept["events"]}
    assert query(settings, "SELECT count(*) FROM CORE.int_sessions") == [(len(sessions),)]
    with pytest.raises(ShopstreamError, match="YYYY-MM-DD"):
        build(settings, as_of_date="31/01/2030")


def test_docs_site_is_generated(built):
    settings, _, _, _ = built
    index = docs(settings)
    assert index == settings.home / "dbt" / "target" / "index.html"
    assert "mart_customer_ltv" in (index.parent / "catalog.json").read_text()


def test_a_failing_test_is_named_and_its_children_skipped(built):
    """Runs last in the module: it breaks one order total in RAW (and puts it back)."""
    settings, _, _, _ = built
    set_total = "UPDATE RAW.orders SET total_amount = total_amount + ({delta}) WHERE id = 5"
    execute(settings, set_total.format(delta=1))
    try:
        with pytest.raises(TransformError) as failure:
            build(settings, select="fct_orders+")
    finally:
        execute(settings, set_total.format(delta=-1))
    assert "assert_order_totals_equal_lines" in str(failure.value)
    report = failure.value.report
    assert report.failures == [next(f for f in report.failures if "assert_order_totals_equal_lines" in f)]
    assert report.node("assert_order_totals_equal_lines").failures == 1
    # dbt build does not build on a model whose tests fail: everything downstream of fct_orders is skipped.
    assert report.node("dim_customers").status == "skipped"
    assert report.node("mart_customer_ltv").status == "skipped"


def test_missing_warehouse_is_an_actionable_error(tmp_path):
    with pytest.raises(ShopstreamError, match="shopstream load --stack dbtproj"):
        build(local_stack(tmp_path))


def test_snowflake_env_uses_the_transform_warehouse_and_no_credentials(tmp_path, monkeypatch):
    names = StackNames("alice")
    settings = local_stack(tmp_path, "alice").model_copy(
        update={
            "warehouse": SnowflakeWarehouse(
                account="xy12345.eu-west-3.aws",
                database=names.database,
                schemas=names.schemas,
                warehouses=names.warehouses,
                role=names.role,
                stage=names.stage,
                parquet_format=names.parquet_format,
                csv_format=names.csv_format,
            )
        }
    )
    monkeypatch.setenv("SNOWFLAKE_PASSWORD", "s3cret")
    monkeypatch.delenv(ENV_SALT, raising=False)
    with pytest.raises(ConfigError, match="no privacy salt"):  # a cloud stack never invents its salt
        dbt_env(settings)
    monkeypatch.setenv(ENV_SALT, "a-cohort-secret-of-32-characters")
    env = dbt_env(settings)
    assert env == {
        ENV_SALT: "a-cohort-secret-of-32-characters",
        "SHOPSTREAM_DBT_TARGET": "snowflake",
        "SHOPSTREAM_SF_ACCOUNT": "xy12345.eu-west-3.aws",
        "SHOPSTREAM_SF_DATABASE": "SHOPSTREAM_ALICE",
        "SHOPSTREAM_SF_ROLE": "SHOPSTREAM_ALICE_STUDENT",
        "SHOPSTREAM_SF_WAREHOUSE": "SHOPSTREAM_ALICE_TRANSFORM",
    }
    monkeypatch.delenv("SNOWFLAKE_USER", raising=False)
    with pytest.raises(ConfigError, match="SNOWFLAKE_USER"):
        build(settings)


def test_parse_for_snowflake_needs_no_connection_nor_env(tmp_path, monkeypatch):
    """`dbt parse --target snowflake` with no SHOPSTREAM_, SNOWFLAKE_ or DBT_ variable set and no account to reach (as
    `shopstream airflow` renders the DAG on a machine without credentials); in this process, as the CLI runs dbt."""
    from pipeline.transform.runner import invoke

    for name in [name for name in os.environ if name.startswith(("SHOPSTREAM_", "SNOWFLAKE_", "DBT_"))]:
        monkeypatch.delenv(name)
    manifest, errors = invoke(
        ["parse", "--target", "snowflake", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
         str(DBT_PROJECT_DIR), "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
        env={},
    )  # fmt: skip
    assert errors == [] and manifest is not None, errors
    written = (tmp_path / "target" / "manifest.json").read_text()
    assert '"adapter_type": "snowflake"' in written
    assert '"schema": "MARTS"' in written


def test_no_model_reads_the_wall_clock(built):
    """Every "today" comes from as_of_date: the compiled SQL of every model and test names no clock function."""
    settings, _, _, _ = built
    compiled = settings.home / "dbt" / "target" / "compiled"
    clock = re.compile(r"\b(current_date|current_timestamp|localtimestamp|getdate|sysdate|now)\b\s*(\(|\b)", re.I)
    offenders = [path.name for path in compiled.rglob("*.sql") if clock.search(path.read_text())]
    assert list(compiled.rglob("*.sql")) and offenders == []


def test_builds_in_one_process_after_a_failure_and_skip_when_nothing_changed(built):
    """dbt runs in this process: consecutive builds, a failed build and the build after it must each see the
    warehouse as it is (no adapter state kept), and a full build on unchanged RAW and project does nothing."""
    from pipeline.run import NOTHING_CHANGED, describe_transform

    settings, _, _, _ = built
    first = build(settings, force=True)
    assert first.ok and not first.unchanged and first.models_built > 0
    second = build(settings)
    assert second.unchanged and second.nodes == [] and describe_transform(second) == NOTHING_CHANGED
    set_total = "UPDATE RAW.orders SET total_amount = total_amount + ({delta}) WHERE id = 5"
    execute(settings, set_total.format(delta=1))  # RAW changed: the next build runs, and fails
    try:
        with pytest.raises(TransformError, match="assert_order_totals_equal_lines"):
            build(settings)
    finally:
        execute(settings, set_total.format(delta=-1))
    # RAW is back to the last successful build's, but that build's fingerprint went with the failed one: it runs.
    after_failure = build(settings)
    assert after_failure.ok and not after_failure.unchanged
    assert len(after_failure.nodes) == len(first.nodes)
    assert build(settings).unchanged  # (`force` overrides it: test_unit_tests_rerun_only_when_the_project_changed)
    assert not build(settings, select="stg_orders").unchanged
    assert not build(settings).unchanged  # a partial build forgets the fingerprint: the next full build runs


def test_the_fingerprint_follows_raw_the_project_and_vars(built, tmp_path):
    settings, _, _, _ = built
    project = tmp_path / "dbt"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    base = fingerprint.current(settings, project, {})
    assert base == fingerprint.current(settings, project, {})
    assert base != fingerprint.current(settings, project, {"as_of_date": "2025-03-01"})
    model = next((project / "models" / "marts").rglob("*.sql"))
    model.write_text(model.read_text() + "\n-- edited\n")
    edited = fingerprint.current(settings, project, {})
    assert edited != base
    (project / "target").mkdir(exist_ok=True)
    (project / "target" / "anything.json").write_text("{}")  # dbt's output is not the project
    assert fingerprint.current(settings, project, {}) == edited
    first_user = "WHERE id = (SELECT min(id) FROM RAW.users)"
    execute(settings, f"UPDATE RAW.users SET email = email || 'x' {first_user}")  # a change the loader never made
    try:
        assert fingerprint.current(settings, project, {}) != edited
    finally:
        execute(settings, f"UPDATE RAW.users SET email = substr(email, 1, length(email) - 1) {first_user}")
    assert fingerprint.current(settings, project, {}) == edited


def test_unit_tests_rerun_only_when_the_project_changed(built, tmp_path):
    """Unit tests test code, not data: once they passed for this project on this engine (the module's build ran
    them), a full build leaves them out and says so; `always` runs them; another project, vars or engine has another
    digest, with no verdict yet."""
    from pipeline.run import describe_transform

    settings, _, first, _ = built
    units = sum(1 for node in first.nodes if node.resource_type == "unit_test")
    reused = build(settings, force=True)
    assert reused.ok and reused.unit_tests_passed_before == units == 8
    assert not any(node.resource_type == "unit_test" for node in reused.nodes)
    assert reused.models_built == first.models_built
    assert f"({units} unit tests not rerun: they passed on this project before)" in describe_transform(reused)
    again = build(settings, force=True, unit_tests=UnitTests.ALWAYS)
    assert again.unit_tests_passed_before == 0
    assert sum(1 for node in again.nodes if node.resource_type == "unit_test") == units
    assert not build(settings, select="mart_customer_ltv").unit_tests_passed_before  # partial builds: dbt decides

    project = tmp_path / "dbt"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    base = unit_tests.digest(project, "local", {})
    assert base == unit_tests.digest(DBT_PROJECT_DIR, "local", {}) and unit_tests.passed_before(base) == units
    assert base != unit_tests.digest(project, "snowflake", {})
    assert base != unit_tests.digest(project, "local", {"as_of_date": "2025-03-01"})
    model = project / "models" / "marts" / "mart_customer_ltv.sql"
    model.write_text(model.read_text() + "\n-- edited\n")
    assert unit_tests.passed_before(unit_tests.digest(project, "local", {})) is None


def test_stacks_alike_are_built_from_one_parse_each_with_its_own_salt(built, tmp_path, monkeypatch):
    """A process parses the project once for every build dbt would parse alike: a new stack in another folder, with
    another privacy salt, is built from the parse the module's build made (dbt does not parse for it), and its
    models are compiled with its own salt."""
    settings, _, _, _ = built
    monkeypatch.delenv(ENV_SALT, raising=False)  # the new stack makes its own random salt
    moved = local_stack(tmp_path / "moved")
    moved.home.mkdir(parents=True)
    shutil.copyfile(settings.warehouse.path, moved.warehouse.path)
    assert prepared_project(settings) is prepared_project(moved)

    report = build(moved, force=True)

    assert report.ok and report.models_built > 0
    log = (moved.home / "dbt" / "logs" / "dbt.log").read_text()
    assert log.count("Starting full parse") == 0  # it has no parse of its own saved: dbt would have said so
    assert log.count("Completed successfully") == 1
    person_keys = "SELECT customer_key, person_key FROM CORE.dim_customers ORDER BY customer_key"
    built_keys, moved_keys = dict(query(settings, person_keys)), dict(query(moved, person_keys))
    assert built_keys.keys() == moved_keys.keys() and built_keys
    assert all(built_keys[customer] != moved_keys[customer] for customer in built_keys)


def test_a_new_process_builds_a_new_stack_from_the_parse_saved_on_disk(built, tmp_path, monkeypatch):
    """A process that parses the project saves the parse in the user's cache, without the privacy salt the parse
    read (an unreadable entry is parsed again and replaced); a new process building a new stack, which has no parse
    of its own, loads it: dbt does not parse, so it writes no partial-parse file for that stack."""
    settings, _, _, _ = built
    monkeypatch.setenv(ENV_CACHE_HOME, str(tmp_path / "cache"))
    monkeypatch.setattr("pipeline.transform._PREPARED", {})  # this process's own parses forgotten
    name = parse_cache.key(parse_inputs(settings), {}, DBT_PROJECT_DIR)
    entry = tmp_path / "cache" / "shopstream" / parse_cache.CACHE_FOLDER / f"{name}.msgpack"
    entry.parent.mkdir(parents=True)
    entry.write_bytes(b"torn by a crash")
    first = local_stack(tmp_path / "first")
    first.home.mkdir(parents=True)

    parsed = prepared_project(first).manifest_for(first, {})

    assert parsed is not None and (first.home / "dbt" / "target" / "partial_parse.msgpack").exists()
    assert entry.stat().st_mode & 0o777 == 0o600
    salt = dbt_env(first)[ENV_SALT]
    assert parsed.env_vars.get(ENV_SALT) == salt  # dbt noted the salt the parse read…
    assert salt.encode() not in entry.read_bytes()  # …and the cache, shared by every stack, does not keep it
    loaded = parse_cache.load(name)
    assert loaded is not None and loaded.nodes.keys() == parsed.nodes.keys()

    def shape(manifest) -> dict:
        return {uid: (n.raw_code, n.depends_on.nodes, n.config.to_dict()) for uid, n in manifest.nodes.items()}

    assert shape(loaded) == shape(parsed)

    home = tmp_path / "home"
    (home / "dbtproj").mkdir(parents=True)
    shutil.copyfile(settings.warehouse.path, home / "dbtproj" / DUCKDB_FILE)
    shopstream = str(Path(sys.executable).with_name("shopstream"))
    command = [shopstream, "transform", "--stack", "dbtproj", "--select", "stg_users", "--local"]
    result = subprocess.run(command, env={**os.environ, ENV_HOME: str(home)}, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (home / "dbtproj" / "dbt" / "target" / "partial_parse.msgpack").exists()
    assert "Completed successfully" in (home / "dbtproj" / "dbt" / "logs" / "dbt.log").read_text()


def test_the_saved_parse_is_named_by_everything_the_parse_reads(built, tmp_path):
    settings, _, _, _ = built
    project = tmp_path / "dbt"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    inputs = parse_inputs(settings)
    base = parse_cache.key(inputs, {}, project)
    assert base == parse_cache.key(dict(reversed(inputs.items())), {}, project)
    assert base != parse_cache.key(inputs, {}, DBT_PROJECT_DIR)  # another checkout: other paths in the manifest
    assert base != parse_cache.key(inputs, {"as_of_date": "2025-03-01"}, project)
    assert base != parse_cache.key({**inputs, "SHOPSTREAM_DBT_TARGET": "snowflake"}, {}, project)
    macro = next((project / "macros").glob("*.sql"))
    macro.write_text(macro.read_text() + "\n")
    assert parse_cache.key(inputs, {}, project) != base


def test_a_failing_unit_test_is_never_remembered_as_passed(built, tmp_path, monkeypatch):
    """A project whose unit test fails: the build fails naming it, no verdict is recorded, and the next build runs
    the unit tests again. (Last in the module: it leaves the stack built from the broken project.)"""
    settings, _, _, _ = built
    project = tmp_path / "dbt"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    unit_yml = project / "models" / "marts" / "_marts_unit_tests.yml"
    expected = "rfm_total_score: 3, rfm_segment: Lost}"
    assert expected in unit_yml.read_text()
    unit_yml.write_text(unit_yml.read_text().replace(expected, "rfm_total_score: 4, rfm_segment: Lost}"))
    monkeypatch.setattr("pipeline.transform.DBT_PROJECT_DIR", project)
    with pytest.raises(TransformError, match="rfm_fewer_than_five_customers") as failed:
        build(settings, force=True)  # a project with no verdict: its unit tests run
    assert failed.value.report is not None and failed.value.report.unit_tests_passed_before == 0
    # No verdict recorded: the next full build is in the same state, and runs them again.
    assert unit_tests.passed_before(unit_tests.digest(project, "local", {})) is None


def test_the_collector_pause_leaves_the_callers_choice_and_survives_errors():
    """The pause around dbt resumes the collector even when dbt raises, and never turns on a collector the caller
    had turned off."""
    from pipeline.transform.runner import collector_paused

    with pytest.raises(RuntimeError), collector_paused():
        assert not gc.isenabled()
        raise RuntimeError("dbt failed")
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_stacks_share_a_parse_only_when_dbt_would_parse_them_alike(tmp_path, monkeypatch):
    """A parse names the DuckDB catalog (the file's name) in every node: a warehouse file of the same name in another
    folder, with another privacy salt, can reuse it; another file name cannot."""
    monkeypatch.delenv("SHOPSTREAM_PRIVACY_SALT", raising=False)
    first, moved = local_stack(tmp_path / "first"), local_stack(tmp_path / "moved")
    assert first.warehouse.path.name == moved.warehouse.path.name and first.home != moved.home
    assert dbt_env(first)[ENV_SALT] != dbt_env(moved)[ENV_SALT]  # each stack's own random salt
    assert parse_inputs(first) == parse_inputs(moved)
    renamed = moved.model_copy(update={"warehouse": DuckDBWarehouse(path=moved.home / "shopstream_other.duckdb")})
    assert parse_inputs(renamed) != parse_inputs(first)
