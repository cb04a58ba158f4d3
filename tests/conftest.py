"""Shared fixtures live in tests/fixtures/: `source` (embedded PostgreSQL), `stack` (a loaded local stack) and
`snowflake` (the fakesnow server entry point)."""

pytest_plugins = ["tests.fixtures.source", "tests.fixtures.stack", "tests.fixtures.snowflake"]
