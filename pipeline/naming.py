"""One place that maps a stack name to every name the stack uses.

Both the Pulumi program (`infra/`) and the pipeline import this module, so a bucket, a database or a
warehouse is always called the same thing on both sides. Two different stacks never share a name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from pipeline.errors import ShopstreamError

PROJECT = "shopstream"
DEFAULT_STACK = "dev"

# Lower-case letters, digits and single hyphens; it must start with a letter. 24 characters keeps every
# derived name inside AWS limits (IAM role names: 64, S3 buckets: 63, with the org prefix).
_STACK_PATTERN = re.compile(r"^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){0,23}$")

WAREHOUSE_SCHEMAS = ("RAW", "STAGING", "CORE", "MARTS")

# Source table -> prefix in the lake. The prefixes keep the course's familiar layout.
SOURCE_TABLES = ("users", "products", "orders", "order_items", "events", "crm_contacts")
LAKE_PREFIXES: dict[str, str] = {
    "users": "raw/postgres/users",
    "products": "raw/postgres/products",
    "orders": "raw/postgres/orders",
    "order_items": "raw/postgres/order_items",
    "events": "raw/events",
    "crm_contacts": "raw/crm",
}
MANIFEST_PREFIX = "raw/_manifests"
QUARANTINE_PREFIX = "quarantine"


def validate_stack(stack: str) -> str:
    """Return the stack name if it is usable in every derived name, else raise a one-line error."""
    if not _STACK_PATTERN.match(stack or ""):
        raise ShopstreamError(
            f"invalid stack name {stack!r}: use 1-24 lower-case letters, digits or single hyphens, "
            "starting with a letter (e.g. 'alice')"
        )
    return stack


def partition_name(extract_date: str) -> str:
    """Name of the lake partition holding one extraction date (Hive style, readable by every engine)."""
    return f"dt={extract_date}"


@dataclass(frozen=True)
class StackNames:
    """Every name derived from one stack. Snowflake names are upper-case, AWS and PostgreSQL lower-case."""

    stack: str
    org: str = PROJECT

    def __post_init__(self) -> None:
        validate_stack(self.stack)

    # -- identifiers in the two case conventions ------------------------------------------------------------
    @property
    def _snake(self) -> str:
        return self.stack.replace("-", "_")

    @property
    def _upper(self) -> str:
        return f"{PROJECT}_{self._snake}".upper()

    # -- PostgreSQL source ----------------------------------------------------------------------------------
    @property
    def postgres_database(self) -> str:
        return f"{PROJECT}_{self._snake}"

    @property
    def postgres_owner_role(self) -> str:
        return f"{PROJECT}_{self._snake}_owner"

    @property
    def postgres_extractor_role(self) -> str:
        return f"{PROJECT}_{self._snake}_extractor"

    # -- S3 lake and AWS identities ------------------------------------------------------------------------
    @property
    def bucket(self) -> str:
        return f"{self.org}-{self.stack}-lake"

    @property
    def lake_uri(self) -> str:
        return f"s3://{self.bucket}"

    @property
    def iam_user(self) -> str:
        return f"{PROJECT}-{self.stack}-pipeline"

    @property
    def iam_role(self) -> str:
        """The role Snowflake's storage integration assumes (fixed, so its ARN is known before it exists)."""
        return f"{PROJECT}-{self.stack}-snowflake-lake"

    # -- Snowflake warehouse ----------------------------------------------------------------------------------
    @property
    def database(self) -> str:
        return self._upper

    @property
    def schemas(self) -> dict[str, str]:
        return {schema.lower(): schema for schema in WAREHOUSE_SCHEMAS}

    @property
    def warehouses(self) -> dict[str, str]:
        return {purpose: f"{self._upper}_{purpose.upper()}" for purpose in ("loading", "transform", "bi")}

    @property
    def role(self) -> str:
        return f"{self._upper}_STUDENT"

    @property
    def resource_monitor(self) -> str:
        return f"{self._upper}_COST_GUARD"

    @property
    def storage_integration(self) -> str:
        return f"{self._upper}_LAKE"

    @property
    def stage(self) -> str:
        """Fully qualified external stage on s3://<bucket>/raw/."""
        return f"{self.database}.RAW.LAKE_STAGE"

    @property
    def parquet_format(self) -> str:
        return f"{self.database}.RAW.PARQUET_FORMAT"

    @property
    def csv_format(self) -> str:
        return f"{self.database}.RAW.CSV_FORMAT"

    # -- local twins ------------------------------------------------------------------------------------------
    @property
    def duckdb_file(self) -> str:
        """File name of the DuckDB warehouse; DuckDB names the catalog after it (shopstream_dev)."""
        return f"{PROJECT}_{self._snake}.duckdb"

    # -- lake layout ------------------------------------------------------------------------------------------
    @staticmethod
    def lake_prefix(table: str) -> str:
        return LAKE_PREFIXES[table]

    @staticmethod
    def lake_partition(table: str, extract_date: str) -> str:
        return str(PurePosixPath(LAKE_PREFIXES[table]) / partition_name(extract_date))

    @staticmethod
    def stage_path(table: str, extract_date: str) -> str:
        """Path of a partition relative to the stage, which points at `<lake>/raw/`."""
        return str(PurePosixPath(LAKE_PREFIXES[table]).relative_to("raw") / partition_name(extract_date))

    # -- governance (tags, policies, roles; declared by infra/governance.py, attached by dbt) -------------------
    @property
    def governance_schema(self) -> str:
        """Tags, policies and the merchant mapping live in CORE: the warehouse has exactly four schemas."""
        return f"{self.database}.CORE"

    @property
    def governance_roles(self) -> dict[str, str]:
        """Reader roles of the stack: PII in clear, marketing (EU rows only), junior analyst (no financial columns)."""
        return {
            purpose: f"{self._upper}_{purpose.upper()}" for purpose in ("pii_reader", "marketing", "junior_analyst")
        }

    def merchant_role(self, merchant_id: int) -> str:
        return f"{self._upper}_MERCHANT_{merchant_id}"
