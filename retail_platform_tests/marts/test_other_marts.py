"""marts.daily_sales, marts.sales_by_country and marts.top_products agree with clean.order_lines."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
import pytest

from retail_platform_tests.marts import (
    Line,
    build_on_clean,
    lines_frame,
    random_lines,
    spec_is_non_product,
)


def total_net_sales(lines: list[Line]) -> Decimal:
    return sum(lines_frame(lines)["amount"], Decimal(0))


# --- daily_sales -------------------------------------------------------------------------------------------


def test_daily_sales_by_hand(engine):
    lines = [
        Line("1", quantity=2, unit_price="3", invoice_date="2010-01-04 00:00:00", customer_id=1),
        Line("1", quantity=1, unit_price="0.001", invoice_date="2010-01-04 00:00:00", customer_id=1),
        Line("C2", quantity=-1, unit_price="3", invoice_date="2010-01-04 23:59:59", customer_id=2),
        Line("3", quantity=5, unit_price="1", invoice_date="2010-01-04 12:00:00", customer_id=None),
        Line("4", quantity=1, unit_price="10", invoice_date="2010-01-05 00:00:00", customer_id=1),
    ]
    days = build_on_clean(
        engine, lines, "marts.daily_sales", "SELECT * FROM marts.daily_sales ORDER BY day"
    ).set_index("day")
    assert list(days.index) == [date(2010, 1, 4), date(2010, 1, 5)]
    first = days.loc[date(2010, 1, 4)]
    assert first["net_sales"] == Decimal("6") + Decimal("0.001") - Decimal("3") + Decimal("5")
    assert first["lines"] == 4
    assert first["invoices"] == 3
    assert first["units"] == 2 + 1 - 1 + 5
    assert first["customers"] == 2
    assert days.loc[date(2010, 1, 5), "net_sales"] == Decimal("10")


def test_daily_sales_count_an_invoice_on_each_of_its_days_and_each_of_its_customers(engine):
    """The day's distinct counts are taken over rows grouped by day, invoice and customer: an invoice over two
    days counts on both, and once on each even with two customers."""
    lines = [
        Line("7", quantity=1, unit_price="2", invoice_date="2010-01-04 10:00:00", customer_id=3),
        Line("7", quantity=1, unit_price="2", invoice_date="2010-01-04 11:00:00", customer_id=4),
        Line("7", quantity=2, unit_price="2", invoice_date="2010-01-05 09:00:00", customer_id=3),
        Line("8", quantity=1, unit_price="5", invoice_date="2010-01-05 12:00:00", customer_id=3),
    ]
    days = build_on_clean(
        engine, lines, "marts.daily_sales", "SELECT * FROM marts.daily_sales ORDER BY day"
    ).set_index("day")
    first, second = days.loc[date(2010, 1, 4)], days.loc[date(2010, 1, 5)]
    assert (first["invoices"], first["lines"], first["customers"]) == (1, 2, 2)
    assert (second["invoices"], second["lines"], second["customers"]) == (2, 2, 1)
    assert (first["net_sales"], second["net_sales"]) == (Decimal("4"), Decimal("9"))
    assert (first["units"], second["units"]) == (2, 3)


@pytest.mark.parametrize("seed", [9, 10])
def test_daily_sales_add_up_to_the_order_lines(engine, seed):
    lines = random_lines(seed, invoices=150)
    days = build_on_clean(engine, lines, "marts.daily_sales", "SELECT * FROM marts.daily_sales ORDER BY day")
    frame = lines_frame(lines)
    assert sum(days["net_sales"], Decimal(0)) == total_net_sales(lines)
    assert days["lines"].sum() == len(lines)
    assert days["units"].sum() == frame["quantity"].sum()
    per_day = frame.groupby(frame["invoice_date"].dt.date).agg(
        invoices=("invoice_no", "nunique"), customers=("customer_id", "nunique")
    )
    assert days["day"].tolist() == list(per_day.index)
    assert days["invoices"].tolist() == per_day["invoices"].tolist()
    assert days["customers"].tolist() == per_day["customers"].tolist()


# --- sales_by_country --------------------------------------------------------------------------------------


def test_sales_by_country_by_hand(engine):
    lines = [
        Line("1", quantity=3, unit_price="10", country="United Kingdom", customer_id=1),
        Line("C2", quantity=-1, unit_price="10", country="United Kingdom", customer_id=1),
        Line("3", quantity=1, unit_price="60", country="France", customer_id=2),
        Line("4", quantity=1, unit_price="20", country="France", customer_id=None),
        Line("A5", stock_code="B", unit_price="-20", country="France", customer_id=None),
    ]
    countries = build_on_clean(
        engine, lines, "marts.sales_by_country", "SELECT * FROM marts.sales_by_country"
    ).set_index("country")
    assert countries.loc["United Kingdom", "net_sales"] == Decimal("20")
    assert countries.loc["France", "net_sales"] == Decimal("60")
    assert float(countries.loc["United Kingdom", "share_of_sales"]) == pytest.approx(0.25)
    assert float(countries.loc["France", "share_of_sales"]) == pytest.approx(0.75)
    assert countries.loc["United Kingdom", "canceled_orders"] == 1
    assert countries.loc["France", "canceled_orders"] == 0
    assert countries.loc["France", "customers"] == 1
    # Placed orders, as in SPEC 4.2: neither cancellations nor adjustments.
    assert countries.loc["United Kingdom", "invoices"] == 1
    assert countries.loc["France", "invoices"] == 2


@pytest.mark.parametrize("seed", [11, 12])
def test_country_totals_and_shares(engine, seed):
    lines = random_lines(seed, invoices=150)
    countries = build_on_clean(
        engine, lines, "marts.sales_by_country", "SELECT * FROM marts.sales_by_country"
    ).set_index("country")
    frame = lines_frame(lines)
    expected = {country: sum(group["amount"], Decimal(0)) for country, group in frame.groupby("country")}
    assert countries["net_sales"].to_dict() == expected
    assert sum(countries["net_sales"], Decimal(0)) == total_net_sales(lines)
    assert float(countries["share_of_sales"].astype(float).sum()) == pytest.approx(1.0, rel=1e-12)


# --- top_products ------------------------------------------------------------------------------------------


def test_top_products_by_hand(engine):
    lines = [
        Line("1", stock_code="22041", description="RECORD FRAME", quantity=10, unit_price="2", customer_id=1),
        Line(
            "2", stock_code="22041", description='RECORD FRAME 7"', quantity=1, unit_price="2", customer_id=2
        ),
        Line(
            "3", stock_code="22041", description="RECORD FRAME", quantity=1, unit_price="2", customer_id=None
        ),
        Line(
            "C4", stock_code="22041", description="RECORD FRAME", quantity=-5, unit_price="2", customer_id=1
        ),
        Line("5", stock_code="85123A", quantity=3, unit_price="5", customer_id=3),
        # Non-product codes and adjustments never rank, however large.
        Line("6", stock_code="POST", description="POSTAGE", quantity=1, unit_price="1000"),
        Line("7", stock_code="DOT", description="DOTCOM POSTAGE", quantity=1, unit_price="900"),
        Line("8", stock_code="gift_0001_50", description="Dotcomgiftshop Gift Voucher", unit_price="50"),
        Line("9", stock_code="DCGSSBOY", description="BOYS PARTY BAG", unit_price="800"),
        Line("A10", stock_code="B", description="Adjust bad debt", unit_price="11062.06"),
    ]
    top = build_on_clean(
        engine, lines, "marts.top_products", "SELECT * FROM marts.top_products ORDER BY rank"
    )
    assert top["stock_code"].tolist() == ["85123A", "22041"]
    assert top["rank"].tolist() == [1, 2]
    frame = top.set_index("stock_code")
    assert frame.loc["22041", "net_sales"] == Decimal("24") - Decimal("10")
    assert frame.loc["22041", "units_sold"] == 7
    assert frame.loc["22041", "description"] == "RECORD FRAME"
    assert frame.loc["22041", "customers"] == 2
    assert frame.loc["85123A", "net_sales"] == Decimal("15")


def test_top_products_are_at_most_a_hundred_ranked_by_net_sales(engine):
    # 105 products with distinct net sales, plus non-product codes richer than any of them.
    lines = [
        Line(str(1000 + n), stock_code=f"2{n:04d}", quantity=n + 1, unit_price="1.25", customer_id=n)
        for n in range(105)
    ]
    lines += [
        Line(f"9{n}", stock_code=code, unit_price="5000") for n, code in enumerate(["POST", "M", "S", "D"])
    ]
    top = build_on_clean(
        engine, lines, "marts.top_products", "SELECT * FROM marts.top_products ORDER BY rank"
    )
    frame = lines_frame(lines)
    products = frame[~frame["stock_code"].map(spec_is_non_product) & ~frame["invoice_no"].str.startswith("A")]
    net = pd.Series(
        {code: sum(group["amount"], Decimal(0)) for code, group in products.groupby("stock_code")}
    )
    expected = net.sort_values(ascending=False).head(100)
    assert len(top) == 100
    assert top["rank"].tolist() == list(range(1, 101))
    assert top["stock_code"].tolist() == list(expected.index)
    assert top["net_sales"].tolist() == expected.tolist()
    assert not any(spec_is_non_product(code) for code in top["stock_code"])


@pytest.mark.parametrize("seed", [13])
def test_top_products_on_random_lines(engine, seed):
    lines = random_lines(seed, invoices=200)
    top = build_on_clean(
        engine, lines, "marts.top_products", "SELECT * FROM marts.top_products ORDER BY rank"
    )
    frame = lines_frame(lines)
    products = frame[~frame["stock_code"].map(spec_is_non_product) & ~frame["invoice_no"].str.startswith("A")]
    net = {code: sum(group["amount"], Decimal(0)) for code, group in products.groupby("stock_code")}
    assert set(top["stock_code"]) == set(net)
    assert top["net_sales"].tolist() == sorted(top["net_sales"], reverse=True)
    assert top.set_index("stock_code")["net_sales"].to_dict() == net
