"""Every shared fixture and helper lives in tests/helpers/, one module per resource; test modules import helpers
from there (never from a conftest.py), and the fixtures are registered here:

    source     the session's embedded PostgreSQL and a private SHOPSTREAM_HOME
    stack      a generated, extracted and loaded local stack (lake + DuckDB warehouse)
    seeded     a private local stack seeded with hand-written edge rows (the pipeline tests)
    snowflake  the fakesnow server entry point
    cloud      cloud stack outputs, moto's S3 server, fakesnow endpoints, Snowflake objects
    erasure    a stack with known people for the erasure tests
    churn      a stack with enough history for the churn model
    airflow    a migrated Airflow home and a parsed dbt manifest
    classroom  a class roster and its fake Automation API
    dashboard  the Streamlit app test harness and a built warehouse
    stream     stacks for the near-real-time road (base data, simulator catalog, lake root)
    grading    students' local stacks, their answer keys and the cohort's salt
    infra      stack configuration of the Pulumi program tests (plain helpers, no fixtures)
    network    moto's S3 server on a free port (free ports: `pipeline.source.server.free_port`)
    cache      the session's own user cache folder (dbt's parses, shared by the workers and their subprocesses)

and `scheduling` keeps the users of a costly session fixture on one xdist worker.
"""

pytest_plugins = [
    "tests.helpers.source",
    "tests.helpers.stack",
    "tests.helpers.seeded",
    "tests.helpers.snowflake",
    "tests.helpers.cloud",
    "tests.helpers.erasure",
    "tests.helpers.churn",
    "tests.helpers.airflow",
    "tests.helpers.classroom",
    "tests.helpers.dashboard",
    "tests.helpers.stream",
    "tests.helpers.grading",
    "tests.helpers.scheduling",
    "tests.helpers.cache",
]
