"""One place that maps a stack name to every name the stack uses.

Both the Pulumi program (`infra/`) and the pipeline import this module, so a bucket, a database or a
warehouse is always called the same thing on both sides. Two different stacks never share a name.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from pipeline.errors import ShopstreamError

PROJECT = "shopstream"
DEFAULT_STACK = "dev"

# Lower-case letters, digits and single hyphens; it must start with a letter. 24 characters keeps every
# derived name inside AWS limits (IAM role names: 64, S3 buckets: 63, with the cohort).
_STACK_PATTERN = re.compile(r"^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){0,23}$")
# A cohort (a course run, e.g. "fall26") is one short word without hyphens, so "<cohort>-<stack>" splits one way
# only: cohort "a" with stack "b-c" and cohort "ab" with stack "c" can never produce the same name.
_COHORT_PATTERN = re.compile(r"^[a-z][a-z0-9]{0,9}$")
BUCKET_SUFFIX_LENGTH = 8

WAREHOUSE_SCHEMAS = ("RAW", "STAGING", "CORE", "MARTS")

# A local stack's DuckDB warehouse, in the stack's own folder: the same file name for every stack. DuckDB names the
# catalog after the file and dbt writes that catalog into every model and source it parses, so one name for all
# stacks lets a process that builds several (a class's answer keys, the test suite) parse the dbt project once.
DUCKDB_FILE = f"{PROJECT}.duckdb"
# What that file was called before it was the same in every folder (`shopstream_dev.duckdb`).
LEGACY_DUCKDB_FILE = PROJECT + "_{snake}.duckdb"

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


def validate_stack(stack: str) -> str:
    """Return the stack name if it is usable in every derived name, else raise a one-line error."""
    if not _STACK_PATTERN.match(stack or ""):
        raise ShopstreamError(
            f"invalid stack name {stack!r}: use 1-24 lower-case letters, digits or single hyphens, "
            "starting with a letter (e.g. 'alice')"
        )
    return stack


@dataclass(frozen=True)
class StackNames:
    """Every name derived from one stack. Snowflake names are upper-case, AWS and PostgreSQL lower-case.

    A cloud stack belongs to a cohort (one run of a course): every physical name carries it, so two cohorts
    with a student `alice` in one AWS or Snowflake account never collide. Local stacks have no cohort and keep
    the short names (`SHOPSTREAM_DEV`). `aws_account_id` makes the bucket name globally unique.
    """

    stack: str
    cohort: str | None = None
    aws_account_id: str | None = None

    def __post_init__(self) -> None:
        validate_stack(self.stack)
        if self.cohort is not None:
            validate_cohort(self.cohort)

    # -- identifiers in the two case conventions ------------------------------------------------------------
    @property
    def qualified(self) -> str:
        """`<cohort>-<stack>` (or the stack alone): the stack's identity across courses, e.g. in tags.

        Classroom stacks are already named `<cohort>-<student>`; they are not prefixed twice, so `fall26-alice`
        and `alice` in cohort `fall26` are one and the same student's names.
        """
        if not self.cohort or self.stack.startswith(f"{self.cohort}-"):
            return self.stack
        return f"{self.cohort}-{self.stack}"

    @property
    def _snake(self) -> str:
        return self.qualified.replace("-", "_")

    @property
    def _kebab(self) -> str:
        return f"{PROJECT}-{self.qualified}"

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
    def bucket_prefix(self) -> str:
        """The bucket's name without its suffix: what can be known before the AWS account is."""
        return f"{self._kebab}-lake"

    @property
    def bucket(self) -> str:
        """S3 names are global: a cloud stack's bucket ends with a short stable hash of account, cohort and stack."""
        if self.cohort is None:
            return self.bucket_prefix
        identity = f"{self.aws_account_id or ''}/{self.qualified}"
        suffix = hashlib.sha256(identity.encode()).hexdigest()[:BUCKET_SUFFIX_LENGTH]
        return f"{self.bucket_prefix}-{suffix}"

    @property
    def lake_uri(self) -> str:
        return f"s3://{self.bucket}"

    @property
    def iam_user(self) -> str:
        return f"{self._kebab}-pipeline"

    @property
    def iam_role(self) -> str:
        """The role Snowflake's storage integration assumes (fixed, so its ARN is known before it exists)."""
        return f"{self._kebab}-snowflake-lake"

    @property
    def budget(self) -> str:
        """The AWS budget that alerts the stack's owner (budget names are unique per account)."""
        return f"{self._kebab}-budget"

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
    def student_user(self) -> str:
        """The student's Snowflake user (key-pair sign-in), created by the stack."""
        return f"{self._upper}_USER"

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
    def legacy_duckdb_file(self) -> str:
        """The DuckDB warehouse's file name in earlier releases (now DUCKDB_FILE in every stack's folder)."""
        return LEGACY_DUCKDB_FILE.format(snake=self._snake)

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


# -- classroom: one stack per student of a cohort, plus the cohort's instructor stack ---------------------------------
# The cohort of a classroom stack is unambiguous: everything before the first hyphen (_COHORT_PATTERN above).
_STACK_MAX_LENGTH = 24
COURSE_STACK_SUFFIX = "course"
# Truncated or unsluggable ids get a short hash of the original id, so the name stays stable and distinct.
_ID_HASH_LENGTH = 6


def validate_cohort(cohort: str) -> str:
    """Return the cohort name if it can prefix every stack of the cohort, else raise a one-line error."""
    if not _COHORT_PATTERN.match(cohort or ""):
        raise ShopstreamError(
            f"invalid cohort name {cohort!r}: use 1-10 lower-case letters or digits, starting with a letter "
            "(e.g. 'fall26')"
        )
    return cohort


def slug(text: str) -> str:
    """Lower-case ASCII letters and digits joined by single hyphens ('Anna Müller' -> 'anna-muller')."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def student_stack(cohort: str, student_id: str) -> str:
    """The stack of one student: `<cohort>-<slug of the id>`, at most 24 characters, the same on every run.

    An id whose slug is empty or too long becomes a readable prefix plus a short hash of the id itself. Two ids
    may still slug to the same stack ('anna.b' and 'Anna B'): the roster check refuses such a roster.
    """
    validate_cohort(cohort)
    room = _STACK_MAX_LENGTH - len(cohort) - 1
    student = slug(student_id)
    if not student or len(student) > room:
        digest = hashlib.sha256(student_id.encode()).hexdigest()[:_ID_HASH_LENGTH]
        prefix = student[: room - _ID_HASH_LENGTH - 1].rstrip("-")
        student = f"{prefix}-{digest}" if prefix else f"id{digest}"
    return validate_stack(f"{cohort}-{student}")


@dataclass(frozen=True)
class CohortNames:
    """Names of what a cohort shares: its instructor (`course`) stack, grader identity and course-wide guards."""

    cohort: str

    def __post_init__(self) -> None:
        validate_cohort(self.cohort)

    @property
    def _upper(self) -> str:
        return f"{PROJECT}_{self.cohort}".upper()

    @property
    def course_stack(self) -> str:
        return f"{self.cohort}-{COURSE_STACK_SUFFIX}"

    @property
    def grader_role(self) -> str:
        """Reads (only reads) every student database of the cohort."""
        return f"{self._upper}_GRADER"

    @property
    def grader_user(self) -> str:
        return f"{self._upper}_GRADER_SVC"

    @property
    def grader_warehouse(self) -> str:
        return f"{self._upper}_GRADING"

    @property
    def grader_resource_monitor(self) -> str:
        return f"{self._upper}_GRADING_GUARD"

    @property
    def budget(self) -> str:
        return f"{PROJECT}-{self.cohort}-budget"


# Marts of the near-real-time road (`shopstream stream`): they fill only while a stream runs, so the batch road
# neither expects rows in them nor grades them.
LIVE_MART_PREFIX = "mart_live_"


def is_live_mart(name: str) -> bool:
    return name.lower().startswith(LIVE_MART_PREFIX)
