"""How a step reports progress: `progress(what, done, total)`; the CLI draws bars from it, Airflow ignores it."""

from collections.abc import Callable

Progress = Callable[[str, int, int], None]  # (what, done, total)
