"""One settings model: every environment variable of the road is read here, once, with one precedence.

    CLI option  >  environment variable  >  stack outputs  >  defaults

`Environment.read()` is the only reader of `os.environ` for the road's own variables (listed below, with what each
does). `resolve_settings` then decides, for one stack, whether it runs on the local twins or in the cloud. That is
an explicit choice, never implied by the stack's name:

1. `--outputs FILE` (or $SHOPSTREAM_OUTPUTS): a cloud stack described by a JSON file of its Pulumi outputs;
2. `--local` (or $SHOPSTREAM_LOCAL=1): the local twins (embedded PostgreSQL, a lake directory, DuckDB);
3. otherwise the stack's outputs from `pulumi stack output`, when Pulumi knows the stack: a cloud stack;
4. otherwise (no Pulumi CLI, or Pulumi has no such stack) a stack with a local home (`shopstream up` made it),
   or, for `shopstream up`/`run`/`airflow`, a new local stack.
A Pulumi that is not logged in or gives unreadable outputs is an error naming that, never a silent fall-back.

Environment variables then replace single edges, so a run can mix them (an S3 lake with the local DuckDB
warehouse, any PostgreSQL by DSN, an S3-compatible endpoint).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from pipeline import pulumi_outputs
from pipeline.errors import ConfigError
from pipeline.naming import DEFAULT_STACK, DUCKDB_FILE, WAREHOUSE_SCHEMAS, StackNames, validate_stack

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt"  # the one dbt project (dbt_project.yml, profiles.yml, models/)

# Every environment variable the road reads; `Environment.read` is the one place that reads them.
ENV_STACK = "SHOPSTREAM_STACK"  # the stack when no --stack is given (default: dev)
ENV_OUTPUTS = "SHOPSTREAM_OUTPUTS"  # JSON file of a cloud stack's Pulumi outputs (as --outputs)
ENV_LOCAL = "SHOPSTREAM_LOCAL"  # 1: the local twins, whatever Pulumi knows (as --local)
ENV_HOME = "SHOPSTREAM_HOME"  # where stacks keep local data (default: <checkout>/.shopstream, else ~/.shopstream)
ENV_PG_DSN = "SHOPSTREAM_PG_DSN"  # use this PostgreSQL instead of the embedded one
ENV_PG_PORT = "SHOPSTREAM_PG_PORT"  # TCP port of the embedded PostgreSQL
ENV_LAKE_URI = "SHOPSTREAM_LAKE_URI"  # a directory or s3://bucket[/prefix]
ENV_S3_ENDPOINT = "SHOPSTREAM_S3_ENDPOINT"  # S3-compatible endpoint (MinIO, moto), e.g. http://127.0.0.1:9000
ENV_WAREHOUSE = "SHOPSTREAM_WAREHOUSE"  # duckdb | snowflake
ENV_COURSE_SALT = "SHOPSTREAM_COURSE_SALT"  # the cohort's secret: it picks each stack's data variant
ENV_DEBUG = "SHOPSTREAM_DEBUG"  # 1: tracebacks instead of one-line errors
ENV_DBT_MANIFEST = "SHOPSTREAM_DBT_MANIFEST"  # where the Airflow DAG reads the dbt manifest (default: dbt/target/)
ENV_DBT_INVOCATION = "SHOPSTREAM_DBT_INVOCATION"  # dbt_runner (in-process, default) | subprocess, for Airflow
ENV_DBT_SELECT = "SHOPSTREAM_DBT_SELECT"  # comma-separated dbt selectors the daily DAG renders (default: all)
ENV_DEMO_SCALE = "SHOPSTREAM_DEMO_SCALE"  # scale of the demo data Airflow generates into an empty source
ENV_PRIVACY_SALT = "SHOPSTREAM_PRIVACY_SALT"  # the pseudonymisation salt (else a file under the stack's home)
ENV_OPERATOR = "SHOPSTREAM_OPERATOR"  # who runs an erasure, for its audit record (default: the OS user)
ENV_SHOW_PII = "SHOPSTREAM_DASHBOARD_SHOW_PII"  # 1: the dashboard shows personal data unmasked
ENV_CACHE_HOME = "XDG_CACHE_HOME"  # the user's cache folder (default: ~/.cache): dbt's parse, demo name pools
# Snowflake credentials: only ever in the environment, never in a file, a log line or an error.
ENV_SF_USER = "SNOWFLAKE_USER"
ENV_SF_PASSWORD = "SNOWFLAKE_PASSWORD"
ENV_SF_PRIVATE_KEY_PATH = "SNOWFLAKE_PRIVATE_KEY_PATH"
ENV_SF_PRIVATE_KEY_PASSPHRASE = "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE"
ENV_SF_AUTHENTICATOR = "SNOWFLAKE_AUTHENTICATOR"
ENV_SF_HOST = "SNOWFLAKE_HOST"  # another endpoint (a local fakesnow server in the tests)
ENV_SF_PORT = "SNOWFLAKE_PORT"
ENV_SF_PROTOCOL = "SNOWFLAKE_PROTOCOL"

DEFAULT_PG_PORT = 54329
DEFAULT_DEMO_SCALE = 0.1


@dataclass(frozen=True)
class SnowflakeCredentials:
    """Who connects to Snowflake, and where (from the environment). Secrets are kept out of `repr`."""

    user: str | None = None
    password: str | None = field(default=None, repr=False)
    private_key_path: str | None = None
    private_key_passphrase: str | None = field(default=None, repr=False)
    authenticator: str | None = None
    host: str | None = None
    port: str | None = None
    protocol: str | None = None

    @property
    def complete(self) -> bool:
        return bool(self.user and (self.password or self.private_key_path or self.authenticator))


@dataclass(frozen=True)
class Environment:
    """Every environment variable the road reads, read at once (`Environment.read()`)."""

    stack: str | None = None
    outputs_file: Path | None = None
    local: bool = False
    home: Path | None = None
    cache_root: Path | None = None
    pg_dsn: str | None = field(default=None, repr=False)
    pg_port: str | None = None
    lake_uri: str | None = None
    s3_endpoint: str | None = None
    warehouse: str | None = None
    course_salt: str | None = field(default=None, repr=False)
    debug: bool = False
    dbt_manifest: Path | None = None
    dbt_invocation: str | None = None
    dbt_select: list[str] = field(default_factory=list)
    demo_scale: str | None = None
    privacy_salt: str | None = field(default=None, repr=False)
    operator: str | None = None
    show_pii: bool = False
    snowflake: SnowflakeCredentials = field(default_factory=SnowflakeCredentials)

    @classmethod
    def read(cls, environ: Mapping[str, str] | None = None) -> Environment:
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            return env.get(name) or None

        def path(name: str) -> Path | None:
            value = get(name)
            return Path(value) if value else None

        return cls(
            stack=get(ENV_STACK),
            outputs_file=path(ENV_OUTPUTS),
            local=get(ENV_LOCAL) == "1",
            home=path(ENV_HOME),
            cache_root=path(ENV_CACHE_HOME),
            pg_dsn=get(ENV_PG_DSN),
            pg_port=env.get(ENV_PG_PORT),  # kept even when empty: an empty port is an error, not the default
            lake_uri=get(ENV_LAKE_URI),
            s3_endpoint=get(ENV_S3_ENDPOINT),
            warehouse=(get(ENV_WAREHOUSE) or "").lower() or None,
            course_salt=get(ENV_COURSE_SALT),
            debug=get(ENV_DEBUG) == "1",
            dbt_manifest=path(ENV_DBT_MANIFEST),
            dbt_invocation=get(ENV_DBT_INVOCATION),
            dbt_select=[s.strip() for s in (get(ENV_DBT_SELECT) or "").split(",") if s.strip()],
            demo_scale=get(ENV_DEMO_SCALE),
            privacy_salt=get(ENV_PRIVACY_SALT),
            operator=get(ENV_OPERATOR),
            show_pii=get(ENV_SHOW_PII) == "1",
            snowflake=SnowflakeCredentials(
                user=get(ENV_SF_USER),
                password=get(ENV_SF_PASSWORD),
                private_key_path=get(ENV_SF_PRIVATE_KEY_PATH),
                private_key_passphrase=get(ENV_SF_PRIVATE_KEY_PASSPHRASE),
                authenticator=get(ENV_SF_AUTHENTICATOR),
                host=get(ENV_SF_HOST),
                port=get(ENV_SF_PORT),
                protocol=get(ENV_SF_PROTOCOL),
            ),
        )

    @property
    def shopstream_home(self) -> Path:
        """$SHOPSTREAM_HOME (a relative one is taken from the current directory: that was asked for), else
        `.shopstream` in the checkout the package runs from, else `~/.shopstream` for an installed package."""
        if self.home is not None:
            return self.home.resolve()
        if (REPO_ROOT / "pyproject.toml").exists():
            return REPO_ROOT / ".shopstream"
        return Path.home() / ".shopstream"

    @property
    def cache_home(self) -> Path:
        """Where ShopStream keeps what it can always make again, shared by every SHOPSTREAM_HOME of the user:
        `$XDG_CACHE_HOME/shopstream` (an absolute path, as the XDG spec asks), else `~/.cache/shopstream`."""
        root = self.cache_root if self.cache_root is not None and self.cache_root.is_absolute() else None
        return (root or Path.home() / ".cache") / "shopstream"

    @property
    def embedded_pg_port(self) -> int:
        raw = str(DEFAULT_PG_PORT) if self.pg_port is None else self.pg_port
        if not raw.isdigit() or not 1024 <= int(raw) <= 65535:
            raise ConfigError(f"{ENV_PG_PORT}={raw!r} is not a TCP port between 1024 and 65535")
        return int(raw)

    @property
    def demo_data_scale(self) -> float:
        if self.demo_scale is None:
            return DEFAULT_DEMO_SCALE
        try:
            value = float(self.demo_scale)
        except ValueError:
            value = -1.0
        if not value > 0:
            raise ConfigError(f"{ENV_DEMO_SCALE}={self.demo_scale!r} is not a positive number")
        return value


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
    local: bool = False  # runs on the local twins (not a cloud stack)
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


@contextlib.contextmanager
def temporary_environment(values: Mapping[str, str | None]) -> Iterator[None]:
    """Set (a None: unset) environment variables for the duration of the block, then put back what was there. For
    libraries that read the environment themselves (dbt's profile, the Snowflake connector), never for settings."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        _set_environment(values)
        yield
    finally:
        _set_environment(saved)


def _set_environment(values: Mapping[str, str | None]) -> None:
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def shopstream_home() -> Path:
    return Environment.read().shopstream_home


def cache_home() -> Path:
    return Environment.read().cache_home


# -- local or cloud ------------------------------------------------------------------------------------------------
def is_local_stack(stack: str, env: Environment | None = None) -> bool:
    """True when the stack has a local home (`shopstream up`/`run` made it). Asked only once Pulumi has said it
    does not know the stack (or is not installed), so a cloud stack of the same name always wins."""
    return ((env or Environment.read()).shopstream_home / stack).is_dir()


def mark_local(settings: Settings) -> None:
    """Give a new local stack its home, so later commands find it without `--local`."""
    settings.home.mkdir(parents=True, exist_ok=True)


def duckdb_warehouse_file(home: Path, names: StackNames) -> Path:
    """The stack's DuckDB warehouse in its folder. A warehouse that an earlier release named after the stack
    (`shopstream_dev.duckdb`) is renamed to the shared name the first time the stack is used, with its write-ahead
    log, so an upgrade keeps the data it holds."""
    path = home / DUCKDB_FILE
    legacy = home / names.legacy_duckdb_file
    if legacy.exists() and not path.exists():
        for suffix in (".wal", ""):  # the log first: a crash in between leaves a file DuckDB opens as it was
            old = legacy.with_name(legacy.name + suffix)
            if old.exists():
                old.replace(path.with_name(path.name + suffix))
    return path


def local_settings(stack: str, env: Environment | None = None) -> Settings:
    env = env or Environment.read()
    names = StackNames(stack)
    home = env.shopstream_home / stack
    return Settings(
        stack=stack,
        origin="local twins",
        home=home,
        local=True,
        source=SourceSettings(database=names.postgres_database, port=env.embedded_pg_port),
        lake=LakeSettings(uri=str(home / "lake")),
        warehouse=DuckDBWarehouse(path=duckdb_warehouse_file(home, names)),
    )


def settings_from_outputs(stack: str, outputs: dict, origin: str, env: Environment | None = None) -> Settings:
    """Build cloud settings from a stack's outputs; a missing or malformed key is named in the error."""
    env = env or Environment.read()
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
        home=env.shopstream_home / stack,
        source=SourceSettings(dsn=out.postgres_dsn, database=names.postgres_database, port=env.embedded_pg_port),
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


read_outputs_file = pulumi_outputs.read_outputs_file


def resolve_settings(
    stack: str | None = None,
    outputs_file: Path | None = None,
    *,
    local: bool = False,
    create: bool = False,
    dsn: str | None = None,
    lake_uri: str | None = None,
    warehouse: str | None = None,
    env: Environment | None = None,
) -> Settings:
    """Settings for `stack` (default: $SHOPSTREAM_STACK, else dev); the module docstring gives the rules.

    `local=True` is `--local`. `create=True` (`shopstream up`, `run`, `airflow`) makes a stack Pulumi does not
    know a new local stack. Options (`dsn`, `lake_uri`, `warehouse`) win over the environment, which wins over
    the stack's outputs.
    """
    env = env or Environment.read()
    name = validate_stack(stack if stack is not None else env.stack or DEFAULT_STACK)
    outputs_file = outputs_file or env.outputs_file
    if outputs_file is not None:
        outputs = read_outputs_file(outputs_file)
        settings = settings_from_outputs(name, outputs, f"outputs file {outputs_file}", env)
    elif local or env.local:
        settings = local_settings(name, env)
    else:
        settings = _pulumi_or_local(name, env, create=create)
    if create and settings.local:
        mark_local(settings)
    return apply_overrides(settings, dsn=dsn, lake_uri=lake_uri, warehouse=warehouse, env=env)


def _pulumi_or_local(stack: str, env: Environment, *, create: bool) -> Settings:
    """The cloud stack Pulumi knows, else the stack's local twins if they were set up (or are to be created)."""
    try:
        outputs = pulumi_outputs.stack_outputs(stack)
    except (pulumi_outputs.NoPulumiCli, pulumi_outputs.UnknownPulumiStack) as exc:
        if create or is_local_stack(stack, env):
            return local_settings(stack, env)
        raise ConfigError(
            f"unknown stack {stack!r}: no local stack of that name in {env.shopstream_home} and {exc}; "
            f"create it locally with `shopstream up --stack {stack} --local`, or pass --outputs FILE"
        ) from None
    except pulumi_outputs.PulumiError as exc:
        hint = " (or pass --local for its local twins)" if is_local_stack(stack, env) else ""
        raise ConfigError(f"{exc}{hint}") from None
    return settings_from_outputs(stack, outputs, f"pulumi stack {stack}", env)


def apply_overrides(
    settings: Settings,
    *,
    dsn: str | None = None,
    lake_uri: str | None = None,
    warehouse: str | None = None,
    env: Environment | None = None,
) -> Settings:
    """Replace single edges of the road: an option given here, else its environment variable."""
    env = env or Environment.read()
    dsn = dsn or env.pg_dsn
    lake_uri = lake_uri or env.lake_uri
    endpoint = env.s3_endpoint
    warehouse = (warehouse or env.warehouse or settings.warehouse.kind).lower()
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
            update["warehouse"] = DuckDBWarehouse(path=duckdb_warehouse_file(settings.home, names))
        elif warehouse == "snowflake":
            raise ConfigError(
                f"stack {settings.stack!r} has no Snowflake outputs; pass --outputs FILE or run `pulumi up` first"
            )
        else:
            raise ConfigError(f"unknown warehouse {warehouse!r}: choose duckdb or snowflake")
    return settings.model_copy(update=update) if update else settings


def course_salt() -> str | None:
    """The cohort's secret salt (instructors and graders set it; a student's hand-out never holds it)."""
    return Environment.read().course_salt
