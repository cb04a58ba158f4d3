"""Child processes that never outlive the command that started them (dbt, Streamlit, Airflow).

On Linux each child asks the kernel for SIGTERM when its parent dies, however the parent dies (Ctrl+C, SIGTERM,
`kill -9`, an Airflow task timeout): a killed `shopstream run` can no longer leave dbt holding the warehouse
lock, nor a stopped `shopstream dashboard` leave Streamlit listening. Elsewhere this is a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import signal
import sys
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> Callable[[], None] | None:
    """A `preexec_fn` for subprocess that ties the child's life to ours (None where the OS cannot)."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)

    def set_parent_death_signal() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)

    return set_parent_death_signal
