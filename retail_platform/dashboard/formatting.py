"""Figures for people: pounds with thousands separators, counts, percentages, month names.

The pages and their tests format with these same functions, so a test compares the page with the marts
without re-implementing the rounding.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd

from retail_platform.analytics import chart_style
from retail_platform.analytics.chart_style import CURRENCY

NOT_AVAILABLE = "\u2013"  # an en dash
Number = int | float | Decimal | None


def _missing(value: Number) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def money(value: Number, decimals: int = 0) -> str:
    """£1,234,567 (negative: -£1,234)."""
    if _missing(value):
        return NOT_AVAILABLE
    number = float(value)
    sign = "-" if number < 0 else ""
    return f"{sign}{CURRENCY}{abs(number):,.{decimals}f}"


def money_short(value: Number) -> str:
    """£1.23M, £825k, £912: fits a chart label or a metric tile (the PNG charts' labels)."""
    return NOT_AVAILABLE if _missing(value) else chart_style.money_short(float(value))


def count(value: Number) -> str:
    """12,345."""
    return NOT_AVAILABLE if _missing(value) else f"{float(value):,.0f}"


def decimal(value: Number, places: int = 1) -> str:
    """12,345.6."""
    return NOT_AVAILABLE if _missing(value) else f"{float(value):,.{places}f}"


def pct(value: Number, decimals: int = 1, signed: bool = False) -> str:
    """A percentage already in percent units: 12.3% (signed: +12.3%)."""
    if _missing(value):
        return NOT_AVAILABLE
    return f"{float(value):{'+' if signed else ''}.{decimals}f}%"


def share(value: Number, decimals: int = 1) -> str:
    """A fraction as a percentage: 0.123 -> 12.3%."""
    return NOT_AVAILABLE if _missing(value) else pct(100 * float(value), decimals)


def change_pct(current: Number, previous: Number) -> float | None:
    """Percent change from ``previous`` to ``current``; None without a previous figure (or from zero)."""
    if _missing(current) or _missing(previous) or float(previous) == 0:
        return None
    return 100 * (float(current) / float(previous) - 1)


def month_label(value: date | datetime | pd.Timestamp) -> str:
    """Dec 2010."""
    return pd.Timestamp(value).strftime("%b %Y")


def day_label(value: date | datetime | pd.Timestamp) -> str:
    """9 Dec 2010."""
    stamp = pd.Timestamp(value)
    return f"{stamp.day} {stamp:%b %Y}"


def label(code: object) -> str:
    """A code for people: 'loyalty_reward' -> 'Loyalty reward'."""
    text = str(code).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


Columns = dict[str, str | tuple[str, Callable[[Any], str]]]


def table(frame: pd.DataFrame, columns: Columns) -> pd.DataFrame:
    """The frame's ``columns`` as text for display, in that order: name -> heading (the values as they are)
    or (heading, formatter)."""
    shown = pd.DataFrame(index=frame.index)
    for name, spec in columns.items():
        heading, formatter = (spec, None) if isinstance(spec, str) else spec
        shown[heading] = frame[name].astype(str) if formatter is None else frame[name].map(formatter)
    return shown.reset_index(drop=True)
