"""One typed settings object for a stack, whatever road it runs on.

A stack's settings come from, in order:
1. a JSON file of its Pulumi outputs (`--outputs FILE`, e.g. exported by an instructor);
2. the local twins, when the stack is local (`dev`, or a stack created with `shopstream up --stack NAME`);
3. `pulumi stack output --json --show-secrets --stack NAME`, when the Pulumi CLI is installed.
Environment variables then override single edges, so a run can mix them (an S3 lake with the local DuckDB
warehouse, any PostgreSQL by DSN, an S3-compatible endpoint).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from pipeline.errors import ConfigError
from pipeline.naming import DEFAULT_STACK, WAREHOUSE_SCHEMAS, StackNames, validate_stack

# Environment variables a user may set to change one edge of the road.
ENV_HOME = "SHOPSTREAM_HOME"  # where local stacks keep their data (default: ./.shopstream)
ENV_PG_DSN = "SHOPSTREAM_PG_DSN"  # use this PostgreSQL instead of the embedded one
ENV_PG_PORT = "SHOPSTREAM_PG_PORT"  # TCP port of the embedded PostgreSQL
ENV_LAKE_URI = "SHOPSTREAM_LAKE_URI"  # a directory or s3://bucket[/prefix]
ENV_S3_ENDPOINT = "SHOPSTREAM_S3_ENDPOINT"  # S3-compatible endpoint (MinIO, moto), e.g. http://127.0.0.1:9000
ENV_WAREHOUSE = "SHOPSTREAM_WAREHOUSE"  # duckdb | snowflake
ENV_COURSE_SALT = "SHOPSTREAM_COURSE_SALT"  # the cohort's secret: it picks each stack's data variant

DEFAULT_PG_PORT = 54329


class StackOutputs(BaseModel):
    """The contract between `pulumi up` and the pipeline: the stack outputs the pipeline reads.

    `infra/__main__.py` exports exactly these keys; a test feeds a mocked `up`'s outputs through this model.
    """

    model_config = ConfigDict(extra="ignore")

    stack: str
    lake_bucket: str
    lake_uri: str
    aws_region: str
    pipeline_access_key_id: str
    pipeline_secret_access_key: SecretStr
    snowflake_account: str
    snowflake_database: str
    snowflake_schemas: dict[str, str]
    snowflake_warehouses: dict[str, str]
    snowflake_role: str
    snowflake_stage: str
    snowflake_parquet_format: str
    snowflake_csv_format: str
    postgres_dsn: SecretStr | None = None
    # Added with key-pair student identities; optional so outputs exported before them still load.
    cohort: str | None = None
    snowflake_user: str | None = None  # the student's own Snowflake user (key-pair sign-in)
    snowflake_default_warehouse: str | None = None
    grader_role: str | None = None  # a classroom cohort's grader role, which may read this stack's database
    variant_seed: int | None = None  # this stack's demo-data variant (classroom)


SECRET_OUTPUTS = ("pipeline_secret_access_key", "postgres_dsn")


class SourceSettings(BaseModel):
    """The OLTP PostgreSQL: embedded (a server under the stack's folder) or any server by DSN."""

    dsn: SecretStr | None = None
    database: str
    port: int = DEFAULT_PG_PORT

    @property
    def embedded(self) -> bool:
        return self.dsn is None


class LakeSettings(BaseModel):
    """Where Parquet files land: a local directory or an S3 bucket (same layout either way)."""

    uri: str
    region: str | None = None
    endpoint_override: str | None = None
    access_key_id: str | None = None
    secret_access_key: SecretStr | None = None

    @property
    def is_s3(self) -> bool:
        return self.uri.startswith("s3://")


class DuckDBWarehouse(BaseModel):
    kind: Literal["duckdb"] = "duckdb"
    path: Path

    @property
    def database(self) -> str:
        return self.path.stem


class SnowflakeWarehouse(BaseModel):
    """Snowflake objects of the stack. The user's credentials never live here: they come from the
    environment (SNOWFLAKE_USER with SNOWFLAKE_PASSWORD or SNOWFLAKE_PRIVATE_KEY_PATH) at connect time."""

    kind: Literal["snowflake"] = "snowflake"
    account: str
    database: str
    schemas: dict[str, str]
    warehouses: dict[str, str]
    role: str
    stage: str
    parquet_format: str
    csv_format: str


Warehouse = Annotated[DuckDBWarehouse | SnowflakeWarehouse, Field(discriminator="kind")]


class Settings(BaseModel):
    stack: str
    origin: str  # where these settings came from, for the run summary
    home: Path  # the stack's local folder (embedded PostgreSQL, local lake, DuckDB, logs)
    source: SourceSettings
    lake: LakeSettings
    warehouse: Warehouse
    data_variant_seed: int | None = None  # from the stack outputs; None: derived from the name and course salt

    @property
    def names(self) -> StackNames:
        return StackNames(self.stack)

    @property
    def pgdata(self) -> Path:
        return self.home / "postgres"


def shopstream_home() -> Path:
    return Path(os.environ.get(ENV_HOME) or Path.cwd() / ".shopstream").resolve()


def is_local_stack(stack: str) -> bool:
    return stack == DEFAULT_STACK or (shopstream_home() / stack).is_dir()


def local_settings(stack: str) -> Settings:
    names = StackNames(stack)
    home = shopstream_home() / stack
    return Settings(
        stack=stack,
        origin="local twins",
        home=home,
        source=SourceSettings(database=names.postgres_database, port=_pg_port()),
        lake=LakeSettings(uri=str(home / "lake")),
        warehouse=DuckDBWarehouse(path=home / names.duckdb_file),
    )


def settings_from_outputs(stack: str, outputs: dict, origin: str) -> Settings:
    """Build cloud settings from a stack's outputs; a missing or malformed key is named in the error."""
    try:
        out = StackOutputs.model_validate(outputs)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {'missing' if err['type'] == 'missing' else err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"stack outputs from {origin} are not usable ({problems})") from None
    missing_schemas = [s for s in WAREHOUSE_SCHEMAS if s.lower() not in out.snowflake_schemas]
    if missing_schemas:
        raise ConfigError(f"stack outputs from {origin}: snowflake_schemas lacks {', '.join(missing_schemas)}")
    missing_warehouses = [w for w in ("loading", "transform", "bi") if w not in out.snowflake_warehouses]
    if missing_warehouses:
        raise ConfigError(f"stack outputs from {origin}: snowflake_warehouses lacks {', '.join(missing_warehouses)}")
    names = StackNames(stack)
    return Settings(
        stack=stack,
        origin=origin,
        home=shopstream_home() / stack,
        source=SourceSettings(dsn=out.postgres_dsn, database=names.postgres_database, port=_pg_port()),
        lake=LakeSettings(
            uri=out.lake_uri,
            region=out.aws_region,
            access_key_id=out.pipeline_access_key_id,
            secret_access_key=out.pipeline_secret_access_key,
        ),
        warehouse=SnowflakeWarehouse(
            account=out.snowflake_account,
            database=out.snowflake_database,
            schemas=out.snowflake_schemas,
            warehouses=out.snowflake_warehouses,
            role=out.snowflake_role,
            stage=out.snowflake_stage,
            parquet_format=out.snowflake_parquet_format,
            csv_format=out.snowflake_csv_format,
        ),
        data_variant_seed=out.variant_seed,
    )


def read_outputs_file(path: Path) -> dict:
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"outputs file {path} does not exist") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"outputs file {path} is not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"outputs file {path} must hold a JSON object of stack outputs")
    return data


def pulumi_outputs(stack: str) -> dict | None:
    """The stack's outputs from the Pulumi CLI, or None when the CLI or the stack is not there."""
    if shutil.which("pulumi") is None:
        return None
    result = subprocess.run(
        ["pulumi", "stack", "output", "--json", "--show-secrets", "--stack", stack],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        check=False,
    )
    if result.returncode != 0:
        return None
    return json.loads(result.stdout)


def resolve_settings(
    stack: str = DEFAULT_STACK,
    outputs_file: Path | None = None,
    *,
    create: bool = False,
    dsn: str | None = None,
    lake_uri: str | None = None,
    warehouse: str | None = None,
) -> Settings:
    """Settings for `stack`. `create=True` (used by `shopstream up`) makes a new local stack acceptable."""
    validate_stack(stack)
    if outputs_file is not None:
        settings = settings_from_outputs(stack, read_outputs_file(outputs_file), f"outputs file {outputs_file}")
    elif create or is_local_stack(stack):
        settings = local_settings(stack)
    elif (outputs := pulumi_outputs(stack)) is not None:
        settings = settings_from_outputs(stack, outputs, f"pulumi stack {stack}")
    else:
        raise ConfigError(
            f"unknown stack {stack!r}: it is not a local stack and has no Pulumi outputs; "
            f"create it locally with `shopstream up --stack {stack}` or pass --outputs FILE"
        )
    return apply_overrides(settings, dsn=dsn, lake_uri=lake_uri, warehouse=warehouse)


def apply_overrides(
    settings: Settings, *, dsn: str | None = None, lake_uri: str | None = None, warehouse: str | None = None
) -> Settings:
    """Let options, then environment variables, replace single edges of the road."""
    dsn = dsn or os.environ.get(ENV_PG_DSN)
    lake_uri = lake_uri or os.environ.get(ENV_LAKE_URI)
    endpoint = os.environ.get(ENV_S3_ENDPOINT)
    warehouse = (warehouse or os.environ.get(ENV_WAREHOUSE) or settings.warehouse.kind).lower()
    update: dict = {}
    if dsn:
        update["source"] = settings.source.model_copy(update={"dsn": SecretStr(dsn)})
    if lake_uri or endpoint:
        lake = settings.lake.model_copy(update={"uri": lake_uri or settings.lake.uri})
        if endpoint:
            lake = lake.model_copy(update={"endpoint_override": endpoint})
        update["lake"] = lake
    if warehouse != settings.warehouse.kind:
        if warehouse == "duckdb":
            names = settings.names
            update["warehouse"] = DuckDBWarehouse(path=settings.home / names.duckdb_file)
        elif warehouse == "snowflake":
            raise ConfigError(
                f"stack {settings.stack!r} has no Snowflake outputs; pass --outputs FILE or run `pulumi up` first"
            )
        else:
            raise ConfigError(f"unknown warehouse {warehouse!r}: choose duckdb or snowflake")
    return settings.model_copy(update=update) if update else settings


def course_salt() -> str | None:
    """The cohort's secret salt (instructors and graders set it; a student's hand-out never holds it)."""
    return os.environ.get(ENV_COURSE_SALT) or None


def _pg_port() -> int:
    raw = os.environ.get(ENV_PG_PORT, str(DEFAULT_PG_PORT))
    if not raw.isdigit() or not 1024 <= int(raw) <= 65535:
        raise ConfigError(f"{ENV_PG_PORT}={raw!r} is not a TCP port between 1024 and 65535")
    return int(raw)
