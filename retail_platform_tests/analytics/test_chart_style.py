"""Value labels on bar charts: every bar while they are few, the notable ones when a history gets long."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from retail_platform.analytics.chart_style import DENSE_BARS, label_bars, labelled_bars


def test_every_bar_is_labelled_up_to_three_years_of_months() -> None:
    values = np.random.default_rng(3).normal(size=DENSE_BARS)
    assert labelled_bars(values) == list(range(DENSE_BARS))


def test_a_long_history_labels_its_highest_lowest_and_latest_bar() -> None:
    values = np.random.default_rng(4).normal(size=120)
    values[17], values[80] = 99.0, -99.0
    assert labelled_bars(values) == [17, 80, 119]
    values[119] = 100.0  # the latest is also the highest: two labels
    assert labelled_bars(values) == [80, 119]


def test_missing_values_do_not_hide_the_others() -> None:
    values = np.full(60, np.nan)
    assert labelled_bars(values) == [59]
    values[5] = 1.0
    assert labelled_bars(values) == [5, 59]


def test_label_bars_writes_the_picked_texts_outside_the_layout() -> None:
    ax = Figure().subplots()
    heights = np.arange(1.0, 121.0)
    heights[40] = 500.0
    bars = ax.bar(np.arange(120), heights)
    labels = label_bars(ax, bars, [f"v{i}" for i in range(120)], heights, padding=2)
    assert [label.get_text() for label in labels] == ["v0", "v40", "v119"]
    assert not any(label.get_in_layout() for label in labels)
    few = ax.bar(np.arange(12), heights[:12])
    assert len(label_bars(ax, few, [str(i) for i in range(12)], heights[:12])) == 12


def test_to_float_reads_decimals_none_and_pandas_missing_values() -> None:
    from decimal import Decimal

    import pandas as pd

    from retail_platform.analytics.chart_style import to_float

    expected = [1.5, np.nan, 3.0]
    for values in (
        [Decimal("1.5"), None, 3],
        pd.Series([1.5, None, 3.0]),
        pd.Series([1.5, pd.NA, 3], dtype="object"),
        pd.array([1, None, 3], dtype="Int64") * 1.5 / np.array([1, 1, 1.5]),
        (v for v in [Decimal("1.5"), None, Decimal("3")]),
    ):
        np.testing.assert_array_equal(to_float(values), expected)
