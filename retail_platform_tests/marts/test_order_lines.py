"""clean.order_lines: every raw line once, exact amounts, cancellation / adjustment / non-product flags."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from retail_platform_tests.marts import Line, fetch, fetch_rows, load_raw, run_transforms

BASE = Line(invoice_no="489434")

# SPEC §2 non-product codes, the starred families with real examples from the data set.
NON_PRODUCT = [
    "POST", "DOT", "M", "m", "D", "S", "B", "C2", "C3", "CRUK", "PADS", "ADJUST", "ADJUST2", "AMAZONFEE",
    "BANK CHARGES", "TEST001", "TEST002", "gift_0001_10", "gift_0001_20", "gift_0001_50", "DCGSSBOY",
    "DCGSSGIRL", "DCGS0003", "SP1002",
]  # fmt: skip
PRODUCTS = ["85123A", "22041", "21232", "84879", "79323P", "47566B", "POSTER1", "BOX"]


def clean_lines(engine):
    run_transforms(engine, "clean.order_lines")
    return fetch(engine, "SELECT * FROM clean.order_lines ORDER BY line_id")


@pytest.mark.parametrize(
    ("quantity", "price", "amount"),
    [
        (3, "0.001", "0.003"),
        (1, "0.001", "0.001"),
        (3, "2.1", "6.3"),  # 6.300000000000001 in binary floating point
        (12, "6.95", "83.4"),
        (-80995, "2.08", "-168469.6"),
        (80995, "2.08", "168469.6"),
        (1, "-11062.06", "-11062.06"),
        (24, "0", "0"),
        (7, "0.123456789", "0.864197523"),
        (-3, "0.001", "-0.003"),
        (80995, "1234.567890123", "99993826.260512385"),  # 17 significant digits: beyond a float
    ],
)
def test_amount_is_quantity_times_unit_price_exactly(engine, quantity, price, amount):
    load_raw(engine, [BASE.but(quantity=quantity, unit_price=price)])
    row = clean_lines(engine).iloc[0]
    assert isinstance(row["amount"], Decimal)
    assert row["amount"] == Decimal(amount)
    assert row["unit_price"] == Decimal(price)


def test_flags_for_cancellations_and_adjustments(engine):
    lines = [
        BASE.but(invoice_no="489434"),
        BASE.but(invoice_no="C489449", quantity=-12),
        BASE.but(invoice_no="A563185", stock_code="B", description="Adjust bad debt", unit_price="11062.06"),
        BASE.but(invoice_no="A563186", stock_code="B", description="Adjust bad debt", unit_price="-11062.06"),
        BASE.but(
            invoice_no="C536379", stock_code="D", description="Discount", quantity=-1, unit_price="27.5"
        ),
    ]
    load_raw(engine, lines)
    clean = clean_lines(engine).set_index("invoice_no")
    assert clean["is_cancellation"].to_dict() == {
        "489434": False, "C489449": True, "A563185": False, "A563186": False, "C536379": True,
    }  # fmt: skip
    assert clean["is_adjustment"].to_dict() == {
        "489434": False, "C489449": False, "A563185": True, "A563186": True, "C536379": False,
    }  # fmt: skip


@pytest.mark.parametrize("stock_code", NON_PRODUCT)
def test_non_product_codes_are_flagged(engine, stock_code):
    load_raw(engine, [BASE.but(stock_code=stock_code)])
    assert bool(clean_lines(engine).iloc[0]["is_non_product"]) is True


def test_ordinary_product_codes_are_not_flagged(engine):
    load_raw(engine, [BASE.but(stock_code=code) for code in PRODUCTS])
    clean = clean_lines(engine).set_index("stock_code")
    assert clean["is_non_product"].to_dict() == dict.fromkeys(PRODUCTS, False)


def test_every_raw_line_appears_once_with_its_values(engine):
    lines = [
        BASE,
        BASE,  # the same item scanned twice on one invoice: two lines
        BASE.but(customer_id=None),
        BASE.but(description=None, unit_price="0"),
        BASE.but(invoice_no="C489449", quantity=-3, invoice_date="2010-01-31 23:59:59"),
        BASE.but(invoice_no="489500", invoice_date="2010-02-01 00:00:00", country="EIRE", customer_id=13085),
    ]
    load_raw(engine, lines)
    raw = fetch(engine, "SELECT line_id FROM raw.transactions ORDER BY line_id")
    clean = clean_lines(engine)
    assert clean["line_id"].tolist() == raw["line_id"].tolist()
    assert len(clean) == len(lines)

    values = fetch_rows(
        engine,
        "SELECT invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id,"
        " country FROM clean.order_lines ORDER BY line_id",
    )
    expected = [
        (
            line.invoice_no, line.stock_code, line.description, line.quantity,
            datetime.fromisoformat(line.invoice_date), Decimal(line.unit_price), line.customer_id, line.country,
        )
        for line in lines
    ]  # fmt: skip
    assert values == expected
    assert clean["invoice_month"].tolist() == [date(2010, 1, 1)] * 5 + [date(2010, 2, 1)]

    # Rebuilding replaces the table rather than appending to it.
    assert clean_lines(engine)["line_id"].tolist() == raw["line_id"].tolist()


def test_empty_raw_gives_empty_clean(engine):
    assert clean_lines(engine).empty


def _plan_nodes(node: dict):
    yield node
    for child in node.get("Plans", []):
        yield from _plan_nodes(child)


def test_a_month_run_reads_only_that_months_lines_however_often_months_were_rebuilt(engine):
    """Issue 12 at 10,673,710 lines over ten years: month runs rewrite a month's lines into the table's free
    space, which left a BRIN index on invoice_month matching most of the table (one month's DELETE read 246,867
    heap blocks and rechecked 3.6 million rows). Through migration 019's B-tree, the rows a month run reads
    are exactly that month's, after any number of rebuilds with vacuums between them."""
    from sqlalchemy import text

    from retail_platform.defs.partitions import MonthSpan
    from retail_platform.defs.sql_assets import run_transform

    load_raw(
        engine,
        [
            BASE.but(
                invoice_no=str(500_000 + 1000 * month + i),
                invoice_date=f"2010-{month:02d}-{1 + i % 28:02d} 10:00:00",
            )
            for month in range(1, 13)
            for i in range(400)
        ],
    )
    run_transforms(engine, "clean.order_lines")
    for rebuilt in (6, 2, 9, 6, 2, 9):
        with engine.begin() as conn:
            run_transform(
                conn,
                "clean.order_lines",
                MonthSpan(date(2010, rebuilt, 1), date(2010, rebuilt + 1, 1), False),
            )
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM clean.order_lines"))  # as autovacuum would: the freed space is reused

    with engine.begin() as conn:
        conn.execute(text("SET LOCAL enable_seqscan = off"))  # a small table: the index is what is tested
        [plan] = conn.execute(
            text(
                "EXPLAIN (ANALYZE, FORMAT JSON) SELECT count(*) FROM clean.order_lines"
                " WHERE invoice_month >= DATE '2010-06-01' AND invoice_month < DATE '2010-07-01'"
            )
        ).scalar_one()
    nodes = list(_plan_nodes(plan["Plan"]))
    scans = [
        node for node in nodes if node["Node Type"] in ("Bitmap Heap Scan", "Index Scan", "Index Only Scan")
    ]
    assert scans, nodes
    assert [node["Actual Rows"] for node in scans] == [400]
    assert all(node.get("Rows Removed by Index Recheck", 0) == 0 for node in nodes)
    assert all(node.get("Lossy Heap Blocks", 0) == 0 for node in nodes)
