"""`shopstream forget`: erase one person from every layer of a stack, resumably, and record it in the register.

    resolve  who is meant (refuse unknown or ambiguous input; never a different person)
    postgres the user's identifying fields anonymised, CRM contacts with their email deleted (orders kept)
    lake     every Parquet file holding them rewritten atomically, manifests corrected, old S3 versions deleted
    warehouse RAW rows, load history and SCD2 history
    caches   the stack's dbt target and logs (compiled SQL, run results, docs catalog)
    rebuild  `dbt build` of everything that depends on the users and CRM sources
    verify   no file in the lake and no text column in the warehouse still holds their email
    audit    one append-only record, without the email or name

A request journal (`<home>/privacy/requests/<id>.json`, 0600) records each finished step and every lake key
before it is rewritten, so a request killed mid-way resumes where it stopped when the same command is rerun.
The journal holds the subject's fingerprint and pseudonymous user ids only: the email is given again on rerun.
"""

from __future__ import annotations

import fcntl
import getpass
import json
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.errors import ShopstreamError
from pipeline.lake import Lake, sha256_hex
from pipeline.privacy import audit
from pipeline.privacy.erasure import ERASED_EMAIL_DOMAIN, erased_email
from pipeline.privacy.lake_erasure import (
    Subject,
    emails_of_users,
    erase_from_lake,
    purge_temporary_versions,
    refresh_manifests,
    residual_lake_copies,
)
from pipeline.privacy.salt import fingerprint, normalise_email, privacy_salt
from pipeline.privacy.warehouse_erasure import emails_of_users as warehouse_emails
from pipeline.privacy.warehouse_erasure import erase_from_warehouse, residual_copies, warehouse_exists
from pipeline.rows import one_row
from pipeline.settings import Environment, Settings

STEPS = ("postgres", "lake", "warehouse", "caches", "rebuild", "verify")
# Everything built from the erased rows (snapshots, staging, core, marts) and its tests.
REBUILD_SELECTOR = "source:raw.users+ source:raw.crm_contacts+"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_EMAIL_ANYWHERE = re.compile(r"[^@\s]+@[^@\s]+")

Log = Callable[[str], None]


@dataclass
class ForgetResult:
    request_id: str
    already_erased: bool
    resumed: bool
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)
    residual: list[str] = field(default_factory=list)


# -- the journal -----------------------------------------------------------------------------------------------
def requests_dir(settings: Settings) -> Path:
    """The request journals; created with their parent 0700 (they name pseudonymous user ids)."""
    folder = settings.home / "privacy" / "requests"
    for path in (folder.parent, folder):
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.chmod(0o700)
    return folder


def _write_journal(settings: Settings, journal: dict[str, Any]) -> None:
    folder = requests_dir(settings)
    path = folder / f"{journal['request_id']}.json"
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(journal, handle, indent=2, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)  # atomic: a crash leaves the previous journal or the new one, never half of one


def journals(settings: Settings) -> list[dict[str, Any]]:
    folder = requests_dir(settings)
    return sorted((json.loads(p.read_text()) for p in folder.glob("*.json")), key=lambda j: j["requested_at"])


@contextmanager
def _exclusive(settings: Settings) -> Iterator[None]:
    """One erasure at a time per stack (a second one waits for nothing: it is refused)."""
    folder = requests_dir(settings)
    with open(folder.parent / "forget.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ShopstreamError("another `shopstream forget` is running on this stack; wait for it") from None
        yield


# -- resolving who is meant --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Identity:
    user_ids: frozenset[int]
    emails: frozenset[str]
    names: frozenset[str]  # first and last names, only to keep them out of the reason
    crm_contacts: int


def _source_identity(settings: Settings, email: str | None, user_id: int | None) -> Identity:
    from pipeline.source import connect

    with connect(settings) as conn:
        users: list[tuple] = []
        if email is not None:
            users = conn.execute(
                "SELECT id, email, first_name, last_name FROM users WHERE lower(trim(email)) = %s ORDER BY id",
                [email],
            ).fetchall()
            if len(users) > 1:
                ids = ", ".join(str(u[0]) for u in users)
                raise ShopstreamError(
                    f"the email matches {len(users)} users (ids {ids}): rerun with --user-id to say which one"
                )
            if user_id is not None and users and users[0][0] != user_id:
                raise ShopstreamError("--email and --user-id name two different people: give one of them")
        if user_id is not None and not users:
            users = conn.execute(
                "SELECT id, email, first_name, last_name FROM users WHERE id = %s", [user_id]
            ).fetchall()
        emails = {normalise_email(u[1]) for u in users if not u[1].endswith(f"@{ERASED_EMAIL_DOMAIN}")}
        if email is not None:
            emails.add(email)
        crm = 0
        if emails:
            crm = one_row(
                conn.execute("SELECT count(*) FROM crm_contacts WHERE lower(trim(email)) = ANY(%s)", [sorted(emails)])
            )[0]
    names = {n for u in users for n in (u[2], u[3]) if n}
    return Identity(frozenset(u[0] for u in users), frozenset(emails), frozenset(names), crm)


def _validate(email: str | None, user_id: int | None, reason: str | None) -> str | None:
    if email is None and user_id is None:
        raise ShopstreamError("say who to forget: --email ADDRESS or --user-id N")
    if email is not None:
        email = normalise_email(email)
        if not _EMAIL.match(email):
            raise ShopstreamError("--email must be one email address, e.g. ana@example.com")
        if email.endswith(f"@{ERASED_EMAIL_DOMAIN}"):
            raise ShopstreamError("that address is an erasure placeholder, not a person")
    if user_id is not None and user_id <= 0:
        raise ShopstreamError(f"--user-id must be a positive user id (got {user_id})")
    if reason is not None and _EMAIL_ANYWHERE.search(reason):
        raise ShopstreamError("--reason must not contain an email address: the register keeps no personal data")
    return email


# -- the request -------------------------------------------------------------------------------------------------
def forget(
    settings: Settings,
    email: str | None = None,
    user_id: int | None = None,
    reason: str | None = None,
    log: Log = lambda _: None,
) -> ForgetResult:
    """Erase one person everywhere (see the module docstring). Safe to rerun; resumes an interrupted request."""
    email = _validate(email, user_id, reason)
    salt = privacy_salt(settings)
    email_prints = {fingerprint(salt, "email", email)} if email else set()
    prints = email_prints | ({fingerprint(salt, "user", str(user_id))} if user_id is not None else set())
    with _exclusive(settings):
        known = [j for j in journals(settings) if prints & set(j["fingerprints"])]
        pending = next((j for j in known if j["status"] != "completed"), None)
        identity = _source_identity(settings, email, user_id)
        done = next((j for j in reversed(known) if j["status"] == "completed"), None)
        if pending is None and done is not None:
            return _already_erased(settings, done, identity, email)
        if pending is None and not identity.user_ids and not identity.crm_contacts:
            who = f"user id {user_id}" if email is None else "the email"
            raise ShopstreamError(f"{who} matches nobody in the source of stack {settings.stack!r}: nothing erased")
        if reason and any(name.lower() in reason.lower() for name in identity.names):
            raise ShopstreamError("--reason must not contain the person's name: the register keeps no personal data")
        journal = pending or _new_journal(settings, identity, prints, email_prints, reason)
        resumed = pending is not None
        if resumed:
            journal.setdefault("resumes", []).append(datetime.now(UTC).isoformat(timespec="seconds"))
        # Every user id is a way to name the same person again: a later `--user-id` finds this request.
        prints |= {fingerprint(salt, "user", str(uid)) for uid in identity.user_ids}
        journal["fingerprints"] = sorted(set(journal["fingerprints"]) | prints)
        user_ids = frozenset(journal["user_ids"]) | identity.user_ids
        journal["user_ids"] = sorted(user_ids)
        _write_journal(settings, journal)
        known_emails = (
            identity.emails
            | emails_of_users(Lake.from_settings(settings.lake), user_ids)
            | warehouse_emails(settings, user_ids)
        )
        subject = Subject(user_ids, known_emails, erased_email(journal["request_id"]))
        if resumed:
            log(f"resuming request {journal['request_id']} after {', '.join(journal['done']) or 'its start'}")
        _run_steps(settings, journal, subject, log)
        return ForgetResult(journal["request_id"], False, resumed, journal["changes"], journal["residual"])


def _new_journal(
    settings: Settings, identity: Identity, prints: set[str], email_prints: set[str], reason: str | None
) -> dict[str, Any]:
    return {
        "request_id": datetime.now(UTC).strftime("%Y%m%d") + "-" + uuid.uuid4().hex[:12],
        "requested_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "operator": Environment.read().operator or getpass.getuser(),
        "reason": reason,
        "subject_kind": "user" if identity.user_ids else "crm contact",
        "fingerprints": sorted(prints),
        "subject_fingerprint": min(prints, key=lambda p: p not in email_prints),
        "user_ids": sorted(identity.user_ids),
        "status": "started",
        "done": [],
        "lake_keys_touched": [],
        "changes": {},
        "residual": [],
        "stack": settings.stack,
    }


def _already_erased(settings: Settings, done: dict[str, Any], identity: Identity, email: str | None) -> ForgetResult:
    """A completed request for the same subject: check that nothing came back, change nothing."""
    subject = Subject(frozenset(done["user_ids"]), identity.emails, erased_email(done["request_id"]))
    residual = _residual(settings, subject) if subject.emails else []
    if residual:
        raise ShopstreamError(
            f"request {done['request_id']} erased this person, but copies are back in {', '.join(residual[:3])}: "
            "rerun after removing the restored files, or file a new request with --user-id"
        )
    return ForgetResult(done["request_id"], True, False, done["changes"], [])


def _run_steps(settings: Settings, journal: dict[str, Any], subject: Subject, log: Log) -> None:
    lake = Lake.from_settings(settings.lake)

    def touched(key: str) -> None:
        if key not in journal["lake_keys_touched"]:
            journal["lake_keys_touched"].append(key)
            _write_journal(settings, journal)

    actions: dict[str, Callable[[], dict[str, Any]]] = {
        "postgres": lambda: _erase_postgres(settings, subject),
        "lake": lambda: _erase_lake(lake, settings, subject, journal, touched),
        "warehouse": lambda: erase_from_warehouse(settings, subject, journal["changes"]["lake"]["rewritten"]),
        "rebuild": lambda: _rebuild(settings, journal),
        "caches": lambda: _clear_caches(settings),
        "verify": lambda: {"residual_copies": len(_residual(settings, subject, lake))},
    }
    for step in STEPS:
        if step in journal["done"]:
            continue
        log(f"forget: {step}")
        journal["changes"][step] = actions[step]()
        journal["done"].append(step)
        _write_journal(settings, journal)
    journal["residual"] = _residual(settings, subject, lake)
    if journal["residual"]:
        raise ShopstreamError(
            f"request {journal['request_id']}: copies remain in {', '.join(journal['residual'][:3])}; rerun to retry"
        )
    journal["status"] = "completed"
    journal["completed_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    audit.append(settings, _audit_record(journal))
    _write_journal(settings, journal)


def _erase_postgres(settings: Settings, subject: Subject) -> dict[str, Any]:
    from pipeline.source import connect

    with connect(settings) as conn:
        anonymised = conn.execute(
            "UPDATE users SET email = %s, first_name = NULL, last_name = NULL, last_login = NULL, "
            "updated_at = now() WHERE id = ANY(%s) AND email <> %s",
            [subject.placeholder_email, sorted(subject.user_ids), subject.placeholder_email],
        ).rowcount
        deleted = conn.execute(
            "DELETE FROM crm_contacts WHERE lower(trim(email)) = ANY(%s)", [sorted(subject.emails)]
        ).rowcount
        conn.commit()
        conn.autocommit = True
        # Dead row versions still hold the old values until the table is rewritten.
        conn.execute("VACUUM FULL users, crm_contacts")
    return {"users_anonymised": anonymised, "crm_contacts_deleted": deleted}


def _erase_lake(
    lake: Lake, settings: Settings, subject: Subject, journal: dict[str, Any], touched: Callable[[str], None]
) -> dict[str, Any]:
    erasure = erase_from_lake(lake, settings.lake, subject, touched)
    # Keys rewritten before a crash are in the journal: their manifests are corrected now as well.
    manifests = refresh_manifests(lake, journal["lake_keys_touched"])
    erasure.object_versions_deleted += purge_temporary_versions(lake, settings.lake)
    rewritten = dict(erasure.rewritten)
    for key in journal["lake_keys_touched"]:
        if key not in rewritten and lake.exists(key) and not key.startswith("quarantine/"):
            data = lake.read_bytes(key)
            rewritten[key] = {"sha256": sha256_hex(data), "rows": pq.read_metadata(pa.BufferReader(data)).num_rows}
    return {**erasure.counts(), "manifest_entries_updated": manifests, "rewritten": rewritten}


def _rebuild(settings: Settings, journal: dict[str, Any]) -> dict[str, Any]:
    """dbt build of what is built from the erased rows, so no copy survives (skipped when nothing changed)."""
    warehouse = journal["changes"].get("warehouse", {})
    if not warehouse_exists(settings) or not any(warehouse.get(k) for k in warehouse):
        return {"models_rebuilt": 0}
    from pipeline.run import transform_available
    from pipeline.transform import build

    if not transform_available():
        return {"models_rebuilt": 0}
    report = build(settings, select=REBUILD_SELECTOR)
    return {"models_rebuilt": report.models_built}


def _clear_caches(settings: Settings) -> dict[str, Any]:
    """The stack's dbt target (compiled SQL, run results, docs catalog) and logs, rebuilt by the next dbt run."""
    removed = 0
    for folder in (settings.home / "dbt" / "target", settings.home / "dbt" / "logs"):
        if folder.exists():
            removed += sum(1 for p in folder.rglob("*") if p.is_file())
            shutil.rmtree(folder)
    return {"cache_files_removed": removed}


def _residual(settings: Settings, subject: Subject, lake: Lake | None = None) -> list[str]:
    lake = lake or Lake.from_settings(settings.lake)
    return [f"lake {key}" for key in residual_lake_copies(lake, subject)] + [
        f"warehouse {where}" for where in residual_copies(settings, subject)
    ]


def _audit_record(journal: dict[str, Any]) -> dict[str, Any]:
    return {
        "request_id": journal["request_id"],
        "requested_at": journal["requested_at"],
        "completed_at": journal["completed_at"],
        "operator": journal["operator"],
        "reason": journal["reason"],
        "stack": journal["stack"],
        "subject": {"kind": journal["subject_kind"], "fingerprint": journal["subject_fingerprint"]},
        "changes": {
            "postgres": journal["changes"]["postgres"],
            "lake": {k: v for k, v in journal["changes"]["lake"].items() if k != "rewritten"},
            "warehouse": {**journal["changes"]["warehouse"], **journal["changes"]["rebuild"]},
            "caches": journal["changes"]["caches"],
        },
        "verification": journal["changes"]["verify"],
        "resumed": len(journal.get("resumes", [])) > 0,
    }
