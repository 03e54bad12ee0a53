"""Shop activity over the sample's days and minutes: a line's position in the output picks its minute.

Why cumulative: mapping positions through the cumulative distribution makes lines, invoice numbers and times
increase together, and gives the exact seasonal shape at any size and any chunking.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

# Relative activity per calendar day before the weekday factor: November peaks, Christmas week is closed.
_MONTH_FACTOR = np.array([0.0, 0.95, 1.0, 1.2, 1.05, 1.05, 1.2, 1.0, 1.0, 1.3, 1.75, 2.35, 2.0])
_WEEKDAY_FACTOR = np.array([1.0, 1.0, 0.96, 1.05, 0.78, 0.0, 0.8])  # Monday..Sunday; no Saturday trading
# Lines per opening hour in the real sheet; the shop opens at 07:30 and the last orders come by 20:30.
_HOUR_WEIGHT = {
    7: 744,
    8: 7076,
    9: 33992,
    10: 44211,
    11: 64106,
    12: 81136,
    13: 78049,
    14: 74042,
    15: 57790,
    16: 39539,
    17: 29040,
    18: 9017,
    19: 5384,
    20: 1334,
}


@dataclass(frozen=True)
class Timeline:
    """Cumulative shop activity per minute; a line's position in the output picks its minute."""

    start: np.datetime64  # minute resolution
    cdf: np.ndarray  # float64 per minute, ends at 1.0
    minutes: int

    def minute_at(self, fraction: np.ndarray) -> np.ndarray:
        """The minute (from ``start``) at which a share ``fraction`` of the output's lines is reached."""
        minute = np.searchsorted(self.cdf, fraction, side="right")
        return np.minimum(minute, self.minutes - 1)


@functools.lru_cache(maxsize=8)
def build_timeline(start: str, days: int) -> Timeline:
    """``days`` of trading from ``start``: monthly and weekday factors, closed over Christmas, opening hours."""
    day0 = np.datetime64(pd.Timestamp(start).date(), "D")
    dates = day0 + np.arange(days)
    months = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    weekday = (dates.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    day_of_month = (dates - dates.astype("datetime64[M]")).astype(np.int64) + 1
    closed = ((months == 12) & (day_of_month >= 24)) | ((months == 1) & (day_of_month <= 3))
    day_weight = _MONTH_FACTOR[months] * _WEEKDAY_FACTOR[weekday] * ~closed
    if day_weight.sum() == 0:  # e.g. a single Saturday: trade anyway rather than fail
        day_weight = np.ones(days)
    minute_weight = np.zeros(1440)
    for hour, weight in _HOUR_WEIGHT.items():
        minute_weight[hour * 60 : hour * 60 + 60] = weight / 60.0
    minute_weight[7 * 60 : 7 * 60 + 30] = 0.0
    minute_weight[20 * 60 + 31 : 21 * 60] = 0.0
    cdf = np.cumsum((day_weight[:, None] * minute_weight[None, :]).ravel())
    cdf /= cdf[-1]
    return Timeline(start=day0.astype("datetime64[m]"), cdf=cdf, minutes=days * 1440)
