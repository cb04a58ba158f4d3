"""How numbers read on the dashboard: euros, thousands separators and percentages."""

from __future__ import annotations

import math
from datetime import date

CURRENCY = "€"  # the shop sells in euros
MISSING = "—"


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def money(value: float | None, decimals: int = 0) -> str:
    """€1,234 (or €1,234.56 with decimals=2); negative amounts as -€12."""
    if _missing(value):
        return MISSING
    sign = "-" if value < 0 else ""
    return f"{sign}{CURRENCY}{abs(value):,.{decimals}f}"


def count(value: float | None) -> str:
    """12,345"""
    return MISSING if _missing(value) else f"{round(value):,}"


def percent(share: float | None, decimals: int = 1, signed: bool = False) -> str:
    """A share (0.123) as 12.3 %; signed=True writes +12.3 % for growth."""
    if _missing(share):
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
