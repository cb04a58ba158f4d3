"""The fixed time window of the demo data, and when activity happens inside it.

Nothing reads the wall clock: the same seed gives the same timestamps on any day. Activity grows over the window
and follows weekly, yearly and daily rhythms, so charts of signups, orders and traffic look like a real shop's.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

WINDOW_START = datetime(2024, 1, 1)
LAUNCH = datetime(2024, 1, 8)  # the catalogue is set up during the first week; customers arrive from here on
WINDOW_END = datetime(2026, 1, 1)  # exclusive: the last timestamp is 2025-12-31 23:59:59

DAY_S = 86_400
HOUR_S = 3_600

# Business triples over the two years.
GROWTH = 3.0
# Monday .. Sunday: weekends sell more.
WEEKDAY_FACTOR = np.array([1.00, 0.96, 0.94, 0.98, 1.05, 1.18, 1.22])
# January .. December: January sales, a quiet summer, Black Friday and Christmas.
MONTH_FACTOR = np.array([1.05, 0.88, 0.92, 0.95, 0.97, 0.93, 0.88, 0.85, 0.98, 1.02, 1.35, 1.50])
# 00h .. 23h: quiet nights, a lunch bump and an evening peak.
HOUR_FACTOR = np.array(
    [0.6, 0.35, 0.2, 0.15, 0.15, 0.25, 0.5, 1.0, 1.5, 1.8, 2.0, 2.2, 2.6, 2.4, 2.1, 2.0, 2.1, 2.4, 2.9, 3.3, 3.5, 3.2,
     2.4, 1.3]
)  # fmt: skip


def epoch_seconds(moment: datetime) -> int:
    """Seconds since 1970-01-01 of a naive timestamp (PostgreSQL `timestamp`, no time zone)."""
    return int(moment.replace(tzinfo=UTC).timestamp())


WINDOW_START_S = epoch_seconds(WINDOW_START)
LAUNCH_S = epoch_seconds(LAUNCH)
WINDOW_END_S = epoch_seconds(WINDOW_END)
LAST_SECOND_S = WINDOW_END_S - 1


def _day_probabilities() -> np.ndarray:
    days = np.arange(np.datetime64(LAUNCH, "D"), np.datetime64(WINDOW_END, "D"))
    position = np.arange(days.size) / days.size
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday (Monday = 0)
    month = days.astype("datetime64[M]").astype(np.int64) % 12
    weight = GROWTH**position * WEEKDAY_FACTOR[weekday] * MONTH_FACTOR[month]
    return weight / weight.sum()


DAY_P = _day_probabilities()
HOUR_P = HOUR_FACTOR / HOUR_FACTOR.sum()


def activity_times(rng: np.random.Generator, size: int) -> np.ndarray:
    """`size` timestamps (epoch seconds, int64) between LAUNCH and the window's end, shaped by the rhythms above."""
    day = rng.choice(DAY_P.size, size=size, p=DAY_P)
    hour = rng.choice(HOUR_P.size, size=size, p=HOUR_P)
    second = rng.integers(0, HOUR_S, size=size)
    return LAUNCH_S + day * DAY_S + hour * HOUR_S + second
