"""Who may reach a local stack's embedded PostgreSQL and its files.

- The server requires a password (SCRAM) for every connection; passwords are generated once per stack and kept
  in a 0600 file in the stack folder, never on a command line or in a log.
- The pipeline connects as the stack's owner role (owner of its database, no superuser, no CREATEDB); the
  superuser is kept for `up` itself.
- As root the server runs as a system user with its own group (never root's group), and that user gets exactly
  what it needs through POSIX ACL entries (traverse the folders above its data), never by opening folders to
  everyone. The stack folder itself is 0700: lake and warehouse files inside it are private to their owner.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import secrets
import shutil
import stat
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from pipeline.errors import ShopstreamError

CREDENTIALS_FILE = "postgres-credentials.json"
PRIVATE_DIR_MODE = 0o700

# Every TCP connection authenticates with a password; there is no unix socket (see server.SERVER_OPTIONS).
HBA_CONF = """\
# Written by shopstream: every connection needs a password (SCRAM), from this machine only.
host all all 127.0.0.1/32 scram-sha-256
host all all ::1/128 scram-sha-256
"""


@dataclass(frozen=True)
class Credentials:
    superuser_password: str
    owner_password: str


def credentials_path(home: Path) -> Path:
    return home / CREDENTIALS_FILE


def read_credentials(home: Path) -> Credentials | None:
    """The stack's passwords, or None when the stack has none yet."""
    path = credentials_path(home)
    try:
        data = json.loads(path.read_text())
        return Credentials(data["superuser_password"], data["owner_password"])
    except FileNotFoundError:
        return None
    except (json.JSONDecodeError, KeyError, TypeError):
        raise ShopstreamError(f"{path} is damaged; delete it and run `shopstream up` to set new passwords") from None


def ensure_credentials(home: Path) -> Credentials:
    """The stack's passwords, generated on first use into a file only its owner can read (mode 0600)."""
    existing = read_credentials(home)
    if existing is not None:
        return existing
    credentials = Credentials(secrets.token_urlsafe(24), secrets.token_urlsafe(24))
    path = credentials_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: two commands creating the stack at once must not end up with different passwords.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return read_credentials(home) or credentials
    with os.fdopen(fd, "w") as handle:
        json.dump(asdict(credentials), handle)
    return credentials


def make_private(directory: Path) -> None:
    """Create `directory` (if missing) with mode 0700, and take group/other access away if it had any."""
    directory.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    mode = stat.S_IMODE(directory.stat().st_mode)
    # Group x may be the mask of the server user's ACL entry (see grant_traversal): keep it, or chmod would
    # take that user's access away.
    if mode & 0o067 and directory.stat().st_uid == os.geteuid():
        directory.chmod(mode & ~0o067)


def can_traverse(user: pwd.struct_passwd, directory: Path) -> bool:
    """Whether `user` may pass through `directory` by its mode bits (ACL entries aside)."""
    info = directory.stat()
    if info.st_uid == user.pw_uid:
        return bool(info.st_mode & stat.S_IXUSR)
    if info.st_gid == user.pw_gid or user.pw_name in grp.getgrgid(info.st_gid).gr_mem:
        return bool(info.st_mode & stat.S_IXGRP)
    return bool(info.st_mode & stat.S_IXOTH)


def grant_traversal(user: pwd.struct_passwd, path: Path) -> None:
    """Let `user` reach `path`: an ACL entry 'traverse only' on each folder above it that would stop that user.

    Folders the user can already pass are left alone; no folder is opened to other users.
    """
    blocked = [folder for folder in path.resolve().parents if not can_traverse(user, folder)]
    if not blocked:
        return
    setfacl = shutil.which("setfacl")
    if setfacl is None:
        raise ShopstreamError(
            f"the embedded PostgreSQL runs as system user {user.pw_name!r}, which cannot reach {blocked[0]}; "
            "install POSIX ACL tools (Debian/Ubuntu: apt-get install acl) so shopstream can grant that user "
            f"traverse-only access, or set SHOPSTREAM_HOME to a folder {user.pw_name!r} can reach"
        )
    for folder in blocked:
        result = subprocess.run(
            [setfacl, "-m", f"u:{user.pw_name}:x", str(folder)], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            reason = (result.stderr.strip().splitlines() or ["setfacl failed"])[-1]
            raise ShopstreamError(
                f"cannot let system user {user.pw_name!r} traverse {folder} ({reason}); "
                "use a SHOPSTREAM_HOME on a file system with ACL support"
            )


def hba_is_secure(pgdata: Path) -> bool:
    try:
        return (pgdata / "pg_hba.conf").read_text() == HBA_CONF
    except FileNotFoundError:
        return False


def write_hba(pgdata: Path) -> None:
    """Replace the cluster's pg_hba.conf (keeping its owner and mode) with password-only rules."""
    hba = pgdata / "pg_hba.conf"
    hba.write_text(HBA_CONF)


def set_superuser_password_sql(superuser: str, password: str) -> str:
    """The statement single-user mode runs to set the superuser's password (passed on stdin, never argv)."""
    quoted = password.replace("'", "''")
    return f"ALTER ROLE \"{superuser}\" WITH PASSWORD '{quoted}';\n"
