"""Per-stack data variants: every stack gets its own demo data, and always the same.

A variant is the generator's seed, derived from the stack name and the cohort's secret salt. Two students get
different numbers; the same student always gets the same ones; without the salt nobody can compute another
student's variant (so a hand-out never carries it). With no salt (plain local use) it still depends on the name.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.settings import Settings

# The seed stays within a signed 32-bit int so every consumer (numpy, Faker, SQL) accepts it unchanged.
_SEED_MASK = 0x7FFF_FFFF


def variant_seed(stack: str, salt: str | None = None) -> int:
    """The generator seed of `stack`'s data variant (stable across machines, Python versions and runs)."""
    digest = hashlib.sha256(f"shopstream-variant\x00{salt or ''}\x00{stack}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & _SEED_MASK


def stack_seed(settings: Settings) -> int:
    """The seed `generate` uses by default: the stack outputs' variant, else the name with the course salt."""
    from pipeline.settings import course_salt

    if settings.data_variant_seed is not None:
        return settings.data_variant_seed
    return variant_seed(settings.stack, course_salt())
