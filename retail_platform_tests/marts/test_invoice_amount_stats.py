"""marts.invoice_amount_stats (SPEC 4.1) against pandas, on hand-made and on seeded random invoices."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from retail_platform.warehouse.sql_files import read_sql
from retail_platform_tests.marts import Line, fetch, insert_clean, lines_frame, random_lines, run_transforms

STATS = ["invoices", "min_amount", "mean_amount", "median_amount", "mode_amount", "max_amount", "p85_amount"]

HAND_MADE = [
    # 15: the negative (discount / return) line does not count.
    Line("1", quantity=2, unit_price="5"),
    Line("1", quantity=1, unit_price="5"),
    Line("1", stock_code="D", quantity=-1, unit_price="3"),
    # Only negative lines: not an invoice of 4.1.
    Line("C2", quantity=-4, unit_price="2.5"),
    # 20: the free line adds nothing.
    Line("3", quantity=4, unit_price="5"),
    Line("3", quantity=6, unit_price="0"),
    # Only a free line: excluded.
    Line("4", quantity=1, unit_price="0"),
    # Guest invoices count.
    Line("5", quantity=7, unit_price="1", customer_id=None),
    Line("6", quantity=1, unit_price="7"),
    Line("7", quantity=2, unit_price="10"),
    Line("8", quantity=3, unit_price="0.001"),
    # A positive bad-debt adjustment has amount > 0.
    Line("A9", stock_code="B", quantity=1, unit_price="11062.06", customer_id=None),
    Line("A10", stock_code="B", quantity=1, unit_price="-11062.06", customer_id=None),
    Line("11", quantity=10, unit_price="9.99"),
    Line("12", quantity=1, unit_price="250"),
]
# Invoice amounts by hand: 15, 20, 7, 7, 20, 0.003, 11062.06, 99.9, 250 (the mode ties 7 and 20 -> 7).
HAND_AMOUNTS = ["15", "20", "7", "7", "20", "0.003", "11062.06", "99.9", "250"]


def spec_invoice_amounts(lines: list[Line]) -> pd.Series:
    """Sum of positive line amounts per invoice (exact decimals), for invoices with such a line."""
    frame = lines_frame(lines)
    positive = frame[frame["amount"] > 0]
    sums = {invoice: sum(group["amount"], Decimal(0)) for invoice, group in positive.groupby("invoice_no")}
    return pd.Series(sums, dtype=object).sort_index()


def pandas_stats(amounts: pd.Series) -> dict[str, float]:
    values = amounts.astype("float64")
    return {
        "invoices": len(values),
        "min_amount": values.min(),
        "mean_amount": values.mean(),
        "median_amount": values.median(),
        "mode_amount": values.mode()[0],
        "max_amount": values.max(),
        "p85_amount": values.quantile(0.85),
    }


def expected_rows(amounts: pd.Series) -> dict[str, dict[str, float]]:
    values = amounts.astype("float64")
    cutoff = values.quantile(0.85)
    return {
        "all": {**pandas_stats(values), "outlier_cutoff": cutoff},
        "without_outliers": {**pandas_stats(values[values <= cutoff]), "outlier_cutoff": cutoff},
    }


def stats(engine) -> dict[str, dict]:
    run_transforms(engine, "marts.invoice_amount_stats")
    frame = fetch(engine, "SELECT * FROM marts.invoice_amount_stats ORDER BY variant")
    return {row.pop("variant"): row for row in frame.to_dict("records")}


def assert_stats_equal(actual: dict[str, dict], expected: dict[str, dict[str, float]]) -> None:
    assert sorted(actual) == ["all", "without_outliers"]
    for variant, want in expected.items():
        got = actual[variant]
        assert got["invoices"] == want["invoices"], variant
        for column in [*STATS[1:], "outlier_cutoff"]:
            assert float(got[column]) == pytest.approx(want[column], rel=1e-9, abs=1e-12), (variant, column)


def test_invoice_amount_counts_count_the_positive_lines_sums(engine):
    insert_clean(engine, HAND_MADE)
    counts = fetch(engine, read_sql("queries/invoice_amounts.sql"))
    actual = {amount: n for amount, n in zip(counts["amount"], counts["invoices"], strict=True)}
    expected = spec_invoice_amounts(HAND_MADE).value_counts().to_dict()
    assert actual == expected
    assert sorted(expected) == sorted({Decimal(amount) for amount in HAND_AMOUNTS})
    assert actual[Decimal("7")] == 2 and actual[Decimal("20")] == 2


def test_the_chart_reads_every_invoice_amount_through_copy(engine, database_url):
    """The distribution chart streams the counts with COPY (``defs/charts/assets.invoice_amounts``) and
    repeats each amount as many times as invoices have it."""
    from retail_platform.defs.charts.assets import invoice_amounts
    from retail_platform.defs.resources import WarehouseResource

    insert_clean(engine, HAND_MADE)
    amounts = invoice_amounts(WarehouseResource(url=database_url))
    assert sorted(amounts.tolist()) == sorted(float(a) for a in spec_invoice_amounts(HAND_MADE))
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM clean.invoice_amount_counts"))
    assert invoice_amounts(WarehouseResource(url=database_url)).size == 0


def test_hand_made_invoices(engine):
    insert_clean(engine, HAND_MADE)
    actual = stats(engine)
    assert_stats_equal(actual, expected_rows(spec_invoice_amounts(HAND_MADE)))
    # A few values by hand: 9 invoices from 0.003 to 11062.06, the mode is the smaller of the tied 7 and 20.
    everything = actual["all"]
    assert everything["invoices"] == 9
    assert everything["min_amount"] == Decimal("0.003")
    assert everything["max_amount"] == Decimal("11062.06")
    assert everything["mode_amount"] == Decimal("7")
    assert float(everything["median_amount"]) == 20.0
    # Sorted: 0.003 7 7 15 20 20 99.9 250 11062.06; position 0.85 * 8 = 6.8 -> 99.9 + 0.8 * (250 - 99.9).
    assert float(everything["p85_amount"]) == pytest.approx(99.9 + 0.8 * 150.1, rel=1e-12)
    trimmed = actual["without_outliers"]
    assert trimmed["invoices"] == 7
    assert trimmed["max_amount"] == Decimal("99.9")
    assert trimmed["mode_amount"] == Decimal("7")
    assert float(trimmed["outlier_cutoff"]) == pytest.approx(float(everything["p85_amount"]), rel=1e-12)


def test_mode_is_the_smallest_of_the_most_frequent(engine):
    lines = [
        Line(str(n), unit_price=price) for n, price in enumerate(["30", "30", "5", "5", "12", "40", "2"])
    ]
    insert_clean(engine, lines)
    actual = stats(engine)
    assert actual["all"]["mode_amount"] == Decimal("5")
    assert pd.Series([30.0, 30.0, 5.0, 5.0, 12.0, 40.0, 2.0]).mode()[0] == 5.0


def test_amount_equal_to_the_cutoff_is_kept(engine):
    # Twenty-one invoices 1..21: the 85th percentile is exactly 18 (position 0.85 * 20 = 17).
    lines = [Line(str(n), unit_price=str(n)) for n in range(1, 22)]
    insert_clean(engine, lines)
    actual = stats(engine)
    assert float(actual["all"]["p85_amount"]) == pytest.approx(18.0, rel=1e-12)
    assert actual["without_outliers"]["invoices"] == 18
    assert actual["without_outliers"]["max_amount"] == Decimal("18")


@pytest.mark.parametrize("seed", [3, 4])
def test_random_invoices_match_pandas(engine, seed):
    lines = random_lines(seed, invoices=400)
    insert_clean(engine, lines)
    amounts = spec_invoice_amounts(lines)
    assert len(amounts) > 250
    assert_stats_equal(stats(engine), expected_rows(amounts))


def test_random_log_normal_amounts_match_pandas(engine):
    rng = np.random.default_rng(7)
    prices = np.round(rng.lognormal(mean=5.8, sigma=0.9, size=300), 2)
    prices[:6] = [25_000.0, 38_970.0, 12_500.0, 0.85, 0.85, 0.85]
    lines = [Line(str(n), unit_price=f"{price:.2f}") for n, price in enumerate(prices)]
    insert_clean(engine, lines)
    assert_stats_equal(stats(engine), expected_rows(spec_invoice_amounts(lines)))
