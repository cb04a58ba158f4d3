"""The user's cache folder for the whole test session (see tests/conftest.py).

ShopStream keeps dbt's parse of the project in the user's cache (`pipeline.transform.parse_cache`), shared by every
process. The session points XDG_CACHE_HOME at a folder of its own, made before the xdist workers start, so both
workers and every `shopstream` process a test starts share it (each parse is made once per session), and no test
reads a parse left by an earlier session, nor writes to the user's own cache.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

from pipeline.settings import ENV_CACHE_HOME

_session_folder: str | None = None
_users_own: str | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _session_folder, _users_own
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return  # a worker: its environment came from the controller, which set the folder up
    _users_own = os.environ.get(ENV_CACHE_HOME)
    _session_folder = tempfile.mkdtemp(prefix="shopstream-test-cache-")
    os.environ[ENV_CACHE_HOME] = _session_folder


def pytest_unconfigure(config: pytest.Config) -> None:
    if _session_folder is None:
        return
    shutil.rmtree(_session_folder, ignore_errors=True)
    if _users_own is None:
        os.environ.pop(ENV_CACHE_HOME, None)
    else:
        os.environ[ENV_CACHE_HOME] = _users_own
