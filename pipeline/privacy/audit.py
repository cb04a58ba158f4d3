"""The erasure register: one JSON line per request, appended and never rewritten, without personal data.

Each record names the request, when, who and why, the keyed fingerprint of the subject (never the email or name),
and what changed per layer with row and file counts. Records are chained (each stores the SHA-256 of the
previous line), so an edited or deleted line is detected by `verify_chain` and by `shopstream audit report`.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pipeline.errors import ShopstreamError
from pipeline.settings import Settings

GENESIS = "0" * 64


def audit_file(settings: Settings) -> Path:
    return settings.home / "privacy" / "audit.jsonl"


def _line_hash(line: str) -> str:
    return hashlib.sha256(line.encode()).hexdigest()


def read_records(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def verify_chain(path: Path) -> list[str]:
    """Problems with the register's chain (empty when every record follows the one before it)."""
    problems = []
    previous = GENESIS
    lines = path.read_text().splitlines() if path.exists() else []
    for number, line in enumerate(lines, start=1):
        record = json.loads(line)
        if record.get("previous_record_sha256") != previous:
            problems.append(f"record {number} ({record.get('request_id')}) does not follow the record before it")
        previous = _line_hash(line)
    return problems


def append(settings: Settings, record: dict[str, Any]) -> dict[str, Any]:
    """Append one record (chained to the last one) with O_APPEND and fsync; the file is 0600."""
    path = audit_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    lines = path.read_text().splitlines() if path.exists() else []
    chained = {**record, "previous_record_sha256": _line_hash(lines[-1]) if lines else GENESIS}
    line = json.dumps(chained, sort_keys=True, separators=(",", ":"))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return chained


@dataclass(frozen=True)
class AuditReport:
    records: list[dict[str, Any]]
    problems: list[str]
    markdown: str


def report(settings: Settings, since: date | None = None) -> AuditReport:
    """The register as a data-protection officer reads it: one row per request since `since`."""
    path = audit_file(settings)
    problems = verify_chain(path)
    records = [
        r for r in read_records(path) if since is None or datetime.fromisoformat(r["requested_at"]).date() >= since
    ]
    lines = [
        f"# Erasure register — stack {settings.stack}",
        "",
        f"{len(records)} request(s)"
        + (f" since {since.isoformat()}" if since else "")
        + ". "
        + ("Chain intact." if not problems else "CHAIN BROKEN: " + "; ".join(problems)),
        "",
        "| Request | Requested (UTC) | Completed (UTC) | Operator | Reason | Subject fingerprint | PostgreSQL | Lake | "
        "Warehouse | Residual copies |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in records:
        changes = r.get("changes", {})
        lines.append(
            f"| {r['request_id']} | {r['requested_at']} | {r.get('completed_at', '')} | {r['operator']} | "
            f"{r.get('reason') or ''} | `{r['subject']['fingerprint'][:16]}…` ({r['subject']['kind']}) | "
            f"{_counts(changes.get('postgres'))} | {_counts(changes.get('lake'))} | "
            f"{_counts(changes.get('warehouse'))} | {r.get('verification', {}).get('residual_copies', '?')} |"
        )
    return AuditReport(records, problems, "\n".join(lines) + "\n")


def _counts(layer: dict[str, Any] | None) -> str:
    if not layer:
        return "—"
    return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in layer.items() if isinstance(v, int | str))


def parse_since(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ShopstreamError(f"invalid --since {value!r}: use YYYY-MM-DD, e.g. 2026-11-01") from None
