"""What a load did, table by table. Shared by the DuckDB and Snowflake loaders, so it names no engine."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class QuarantinedFile:
    key: str  # where the file was in the lake
    quarantined_as: str  # where it is now (under quarantine/)
    reason: str


@dataclass
class TableLoad:
    table: str
    files_seen: int = 0
    files_loaded: int = 0
    files_skipped: int = 0  # already loaded with the same checksum
    rows_loaded: int = 0
    quarantined: list[QuarantinedFile] = field(default_factory=list)
    bad_rows: list[str] = field(default_factory=list)  # row-level errors the engine reported and skipped


@dataclass
class LoadReport:
    warehouse: str  # human-readable target, e.g. a DuckDB file or a Snowflake database
    extract_date: str | None = None  # None: every partition not loaded yet
    tables: dict[str, TableLoad] = field(default_factory=dict)
    seconds: float = 0.0
    unfinished: list[str] = field(default_factory=list)  # partitions left alone: their extraction has no manifest
    unknown: list[str] = field(default_factory=list)  # files in the lake that are not Parquet: reported, not loaded

    def table(self, name: str) -> TableLoad:
        return self.tables.setdefault(name, TableLoad(name))

    @property
    def files_seen(self) -> int:
        return sum(t.files_seen for t in self.tables.values())

    @property
    def files_loaded(self) -> int:
        return sum(t.files_loaded for t in self.tables.values())

    @property
    def files_skipped(self) -> int:
        return sum(t.files_skipped for t in self.tables.values())

    @property
    def rows_loaded(self) -> int:
        return sum(t.rows_loaded for t in self.tables.values())

    @property
    def quarantined(self) -> list[QuarantinedFile]:
        return [q for t in self.tables.values() for q in t.quarantined]

    @property
    def bad_rows(self) -> list[str]:
        return [e for t in self.tables.values() for e in t.bad_rows]
