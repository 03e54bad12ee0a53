"""marts.monthly_kpis (SPEC 4.2) on hand-made months, and against a pandas reading of SPEC 4.2."""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal

import pandas as pd
import pytest

from retail_platform_tests.marts import Line, fetch, insert_clean, lines_frame, random_lines, run_transforms

COLUMNS = [
    "month", "placed_orders", "canceled_orders", "net_sales", "sales_growth_pct", "active_customers",
    "new_customers", "existing_customers",
]  # fmt: skip

# Dec 2009, Jan 2010, no line at all in Feb 2010, then Mar 2010.
HAND_MADE = [
    # December 2009
    Line("489434", quantity=2, unit_price="1.50", invoice_date="2009-12-01 07:45:00", customer_id=1),
    Line("489434", quantity=1, unit_price="10", invoice_date="2009-12-01 07:45:00", customer_id=1),
    Line("489435", quantity=5, unit_price="2", invoice_date="2009-12-05 10:00:00", customer_id=None),
    # Customer 2's very first line is a cancellation: new in December, not in January.
    Line("C489436", quantity=-1, unit_price="4", invoice_date="2009-12-07 11:00:00", customer_id=2),
    Line("A489437", stock_code="B", unit_price="-50", invoice_date="2009-12-08 12:00:00", customer_id=None),
    Line("489438", quantity=3, unit_price="0.001", invoice_date="2009-12-31 23:59:59", customer_id=3),
    # January 2010
    Line("489439", quantity=3, unit_price="4", invoice_date="2010-01-01 00:00:00", customer_id=2),
    Line("489440", quantity=1, unit_price="20", invoice_date="2010-01-15 09:30:00", customer_id=4),
    Line("489440", stock_code="POST", unit_price="18", invoice_date="2010-01-15 09:30:00", customer_id=4),
    Line("C489441", quantity=-1, unit_price="10", invoice_date="2010-01-20 15:00:00", customer_id=1),
    Line("C489442", quantity=-2, unit_price="1.50", invoice_date="2010-01-31 23:59:59", customer_id=1),
    # March 2010
    Line("489443", quantity=2, unit_price="5", invoice_date="2010-03-02 08:00:00", customer_id=5),
    Line("489444", quantity=1, unit_price="7", invoice_date="2010-03-03 08:00:00", customer_id=3),
    Line("489445", quantity=1, unit_price="2.5", invoice_date="2010-03-04 08:00:00", customer_id=None),
]

# Worked out by hand from SPEC 4.2.
DEC_NET = Decimal("3.00") + Decimal("10") + Decimal("10") - Decimal("4") - Decimal("50") + Decimal("0.003")
JAN_NET = Decimal("12") + Decimal("20") + Decimal("18") - Decimal("10") - Decimal("3.00")
MAR_NET = Decimal("10") + Decimal("7") + Decimal("2.5")
EXPECTED_BY_HAND = pd.DataFrame(
    [
        (date(2009, 12, 1), 3, 1, DEC_NET, None, 3, 3, 0),
        (date(2010, 1, 1), 2, 2, JAN_NET, 100 * (float(JAN_NET) / float(DEC_NET) - 1), 3, 1, 2),
        (date(2010, 2, 1), 0, 0, Decimal(0), -100.0, 0, 0, 0),
        (date(2010, 3, 1), 3, 0, MAR_NET, None, 2, 1, 1),
    ],
    columns=COLUMNS,
)


def kpis(engine) -> pd.DataFrame:
    run_transforms(engine, "marts.monthly_kpis")
    return fetch(engine, "SELECT * FROM marts.monthly_kpis ORDER BY month")


def spec_kpis(lines: list[Line]) -> pd.DataFrame:
    """SPEC 4.2 read literally, in pandas, one row per calendar month from the first to the last."""
    frame = lines_frame(lines)
    cancellation = frame["invoice_no"].str.startswith("C")
    adjustment = frame["invoice_no"].str.startswith("A")
    known = frame[frame["customer_id"].notna()]
    first_month = known.groupby("customer_id")["month"].min()
    rows = []
    previous_net = None
    for month in pd.period_range(frame["month"].min(), frame["month"].max(), freq="M"):
        in_month = frame["month"] == month
        active = set(known.loc[known["month"] == month, "customer_id"])
        new = {customer for customer in active if first_month[customer] == month}
        net = sum(frame.loc[in_month, "amount"], Decimal(0))
        if previous_net is None or previous_net == 0:
            growth = None
        else:
            growth = 100 * (float(net) / float(previous_net) - 1)
        rows.append(
            (
                month.start_time.date(),
                frame.loc[in_month & ~cancellation & ~adjustment, "invoice_no"].nunique(),
                frame.loc[in_month & cancellation, "invoice_no"].nunique(),
                net,
                growth,
                len(active),
                len(new),
                len(active) - len(new),
            )
        )
        previous_net = net
    return pd.DataFrame(rows, columns=COLUMNS)


def assert_kpis_equal(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(actual.columns) == COLUMNS
    assert len(actual) == len(expected)
    for got, want in zip(actual.to_dict("records"), expected.to_dict("records"), strict=True):
        growth_got, growth_want = got.pop("sales_growth_pct"), want.pop("sales_growth_pct")
        assert got == want
        if growth_want is None or (isinstance(growth_want, float) and math.isnan(growth_want)):
            assert growth_got is None or pd.isna(growth_got), got["month"]
        else:
            assert float(growth_got) == pytest.approx(growth_want, rel=1e-9, abs=1e-9), got["month"]


def test_hand_made_months(engine):
    insert_clean(engine, HAND_MADE)
    actual = kpis(engine)
    assert_kpis_equal(actual, EXPECTED_BY_HAND)
    assert_kpis_equal(actual, spec_kpis(HAND_MADE))


def test_month_is_a_date_holding_the_first_day(engine):
    insert_clean(engine, HAND_MADE)
    actual = kpis(engine)
    column_type = fetch(
        engine,
        "SELECT data_type FROM information_schema.columns"
        " WHERE table_schema = 'marts' AND table_name = 'monthly_kpis' AND column_name = 'month'",
    )
    assert column_type["data_type"].tolist() == ["date"]
    assert all(type(month) is date and month.day == 1 for month in actual["month"])


def test_gap_month_appears_with_zeros_and_months_are_contiguous(engine):
    insert_clean(engine, HAND_MADE)
    months = kpis(engine)["month"].tolist()
    assert months == [date(2009, 12, 1), date(2010, 1, 1), date(2010, 2, 1), date(2010, 3, 1)]
    february = kpis(engine).set_index("month").loc[date(2010, 2, 1)]
    assert february["placed_orders"] == february["canceled_orders"] == 0
    assert february["active_customers"] == february["new_customers"] == february["existing_customers"] == 0
    assert february["net_sales"] == 0


def test_customer_first_seen_on_a_cancellation_is_new_that_month(engine):
    insert_clean(
        engine,
        [
            Line("C1", quantity=-1, invoice_date="2010-05-31 23:00:00", customer_id=77),
            Line("2", quantity=1, invoice_date="2010-06-01 10:00:00", customer_id=77),
        ],
    )
    actual = kpis(engine).set_index("month")
    customers = ["active_customers", "new_customers", "existing_customers"]
    assert actual.loc[date(2010, 5, 1), customers].tolist() == [1, 1, 0]
    assert actual.loc[date(2010, 6, 1), customers].tolist() == [1, 0, 1]
    assert actual.loc[date(2010, 5, 1), "placed_orders"] == 0
    assert actual.loc[date(2010, 5, 1), "canceled_orders"] == 1


def test_net_sales_include_cancellations_adjustments_and_guests(engine):
    lines = [
        Line("1", quantity=10, unit_price="3", customer_id=1),
        Line("C2", quantity=-4, unit_price="3", customer_id=1),
        Line("A3", stock_code="B", unit_price="-7.5", customer_id=None),
        Line("4", quantity=2, unit_price="0.001", customer_id=None),
    ]
    insert_clean(engine, lines)
    row = kpis(engine).iloc[0]
    assert row["net_sales"] == Decimal("30") - Decimal("12") - Decimal("7.5") + Decimal("0.002")
    assert row["placed_orders"] == 2
    assert row["canceled_orders"] == 1
    assert row["active_customers"] == 1
    assert row["sales_growth_pct"] is None or pd.isna(row["sales_growth_pct"])


def test_growth_follows_the_formula(engine):
    lines = [
        Line("1", unit_price="200", invoice_date="2010-01-10 10:00:00"),
        Line("2", unit_price="250", invoice_date="2010-02-10 10:00:00"),
        Line("3", unit_price="125", invoice_date="2010-03-10 10:00:00"),
    ]
    insert_clean(engine, lines)
    growth = kpis(engine)["sales_growth_pct"].tolist()
    assert growth[0] is None or pd.isna(growth[0])
    assert float(growth[1]) == pytest.approx(25.0, rel=1e-12)
    assert float(growth[2]) == pytest.approx(-50.0, rel=1e-12)


@pytest.mark.parametrize("seed", [1, 2])
def test_random_lines_match_spec_reading(engine, seed):
    lines = random_lines(seed, invoices=120)
    insert_clean(engine, lines)
    assert_kpis_equal(kpis(engine), spec_kpis(lines))


def test_no_lines_no_months(engine):
    assert kpis(engine).empty
