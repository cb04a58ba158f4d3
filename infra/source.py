"""The stack's PostgreSQL database on a shared server: an owner role for the generator, a read-only extractor."""

from __future__ import annotations

from urllib.parse import quote

import pulumi
import pulumi_postgresql as postgresql
import pulumi_random as random

from infra.stack_config import PostgresServer
from pipeline.naming import StackNames

SOURCE_SCHEMA = "public"  # pipeline/source/schema.sql creates its tables in the default schema
PASSWORD_LENGTH = 32


def _dsn(server: PostgresServer, user: str, password: str, database: str) -> str:
    return (
        f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}@{server.host}:{server.port}/"
        f"{quote(database, safe='')}?sslmode={server.sslmode}"
    )


class Source(pulumi.ComponentResource):
    def __init__(
        self, name: str, names: StackNames, server: PostgresServer, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("shopstream:infra:Source", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # Roles and database have fixed names: a replacement must drop the old one before creating the new one.
        named = pulumi.ResourceOptions(parent=self, delete_before_replace=True)
        # Letters and digits only: the passwords go into a DSN unescaped by some tools.
        owner_password = random.RandomPassword(
            f"{name}-owner-password", length=PASSWORD_LENGTH, special=False, opts=child
        )
        extractor_password = random.RandomPassword(
            f"{name}-extractor-password", length=PASSWORD_LENGTH, special=False, opts=child
        )
        self.owner = postgresql.Role(
            f"{name}-owner", name=names.postgres_owner_role, login=True, password=owner_password.result, opts=named
        )
        self.extractor = postgresql.Role(
            f"{name}-extractor",
            name=names.postgres_extractor_role,
            login=True,
            password=extractor_password.result,
            opts=named,
        )
        self.database = postgresql.Database(
            f"{name}-database", name=names.postgres_database, owner=self.owner.name, opts=named
        )
        database = self.database.name
        self.grants = [
            postgresql.Grant(
                f"{name}-extractor-connect",
                database=database,
                role=self.extractor.name,
                object_type="database",
                privileges=["CONNECT"],
                opts=child,
            ),
            postgresql.Grant(
                f"{name}-extractor-schema",
                database=database,
                role=self.extractor.name,
                schema=SOURCE_SCHEMA,
                object_type="schema",
                privileges=["USAGE"],
                opts=child,
            ),
            postgresql.Grant(
                f"{name}-extractor-tables",
                database=database,
                role=self.extractor.name,
                schema=SOURCE_SCHEMA,
                object_type="table",
                privileges=["SELECT"],
                opts=child,
            ),
            # Tables the generator creates later are readable too.
            postgresql.DefaultPrivileges(
                f"{name}-extractor-future-tables",
                database=database,
                owner=self.owner.name,
                role=self.extractor.name,
                schema=SOURCE_SCHEMA,
                object_type="table",
                privileges=["SELECT"],
                opts=child,
            ),
        ]
        self.owner_dsn: pulumi.Output[str] = pulumi.Output.secret(
            pulumi.Output.all(self.owner.name, owner_password.result, database).apply(
                lambda parts: _dsn(server, *parts)
            )
        )
        self.extractor_dsn: pulumi.Output[str] = pulumi.Output.secret(
            pulumi.Output.all(self.extractor.name, extractor_password.result, database).apply(
                lambda parts: _dsn(server, *parts)
            )
        )
        self.register_outputs({"owner_dsn": self.owner_dsn, "extractor_dsn": self.extractor_dsn})
