"""Errors a user can act on. The CLI prints them as one line and exits non-zero, without a traceback."""

BRIEF_LIMIT = 240


class ShopstreamError(Exception):
    """A failure with a message that tells the user what to do next."""

    exit_code = 1


class ConfigError(ShopstreamError):
    """Settings are missing or malformed (unknown stack, bad outputs file, missing credentials)."""

    exit_code = 2


class QuarantinedFilesError(ShopstreamError):
    """A load moved files to quarantine (the rest loaded); the run is not clean until someone looks at them."""

    exit_code = 3


class NothingToLoadError(ShopstreamError):
    """The lake holds no finished extraction to load (wrong lake, wrong date, extract never ran or never finished)."""

    exit_code = 4


class DataTestsFailedError(ShopstreamError):
    """dbt built, but a model or a data test failed."""

    exit_code = 5


class ResourceError(ShopstreamError):
    """The machine, not the input, stopped the step: disk full, warehouse in use, not enough memory."""

    exit_code = 6


# Headings dbt puts above the reason of an error that stops a whole command ("Encountered an error:", then the
# kind of error, then the reason): they say nothing of what went wrong, so the first line after them is the brief.
_GENERIC_HEADINGS = frozenset({"Encountered an error:", "Runtime Error", "Compilation Error", "Parsing Error"})


def brief(text: str, limit: int = BRIEF_LIMIT) -> str:
    """The first telling line of a tool's message, cut to `limit` characters: the detail belongs in a log file."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    while len(lines) > 1 and lines[0] in _GENERIC_HEADINGS:
        lines = lines[1:]
    # A traceback's telling line is its last one (the exception and its message), not "Traceback (most recent…".
    telling = lines[-1] if any(line.startswith("Traceback (most recent call last)") for line in lines) else None
    first = telling or (lines[0] if lines else "")
    return first if len(first) <= limit else first[: limit - 1] + "…"


def first_line(exc: BaseException) -> str:
    """An exception's first non-empty line (drivers put the reason there and details below), else its type."""
    return next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)


WAREHOUSE_IN_USE = "warehouse is in use by another process (close the dashboard or Airflow task)"


def is_duckdb_lock(exc: BaseException) -> bool:
    """DuckDB refuses a second writer (or a reader next to a writer) of one file with a lock error."""
    return "duckdb" in type(exc).__module__ and "lock" in str(exc).lower()  # the module is `_duckdb`


def last_line(text: str | None) -> str:
    """The last non-empty line of a tool's output: where libpq, pg_ctl and CLIs put the reason they stopped."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else ""
