"""Shared fixtures live in tests/fixtures/: `source` (embedded PostgreSQL) and `stack` (a loaded local stack)."""

pytest_plugins = ["tests.fixtures.source", "tests.fixtures.stack"]
