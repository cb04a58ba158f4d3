"""How numbers read on the dashboard: euros, thousands separators and percentages."""

from __future__ import annotations

import math
from datetime import date
from typing import TypeGuard

CURRENCY = "€"  # the shop sells in euros
MISSING = "—"


def _present(value: float | None) -> TypeGuard[float]:
    """A number to show: neither NULL nor NaN (pandas' missing value)."""
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def money(value: float | None, decimals: int = 0) -> str:
    """€1,234 (or €1,234.56 with decimals=2); negative amounts as -€12."""
    if not _present(value):
        return MISSING
    sign = "-" if value < 0 else ""
    return f"{sign}{CURRENCY}{abs(value):,.{decimals}f}"


def count(value: float | None) -> str:
    """12,345"""
    return f"{round(value):,}" if _present(value) else MISSING


def percent(share: float | None, decimals: int = 1, signed: bool = False) -> str:
    """A share (0.123) as 12.3 %; signed=True writes +12.3 % for growth."""
    if not _present(share):
        return MISSING
    return f"{share * 100:{'+' if signed else ''},.{decimals}f} %"


def day(value: date) -> str:
    """24 Nov 2026"""
    return f"{value.day} {value:%b %Y}"


def period(start: date, end: date) -> str:
    """1-15 Nov 2026, or 28 Oct 2026 to 3 Nov 2026 across months."""
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}-{day(end)}" if start != end else day(end)
    return f"{day(start)} to {day(end)}"
