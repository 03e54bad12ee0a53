"""The compact facts of migration 018 (sql/transforms/clean/order_facts.sql) on hand-made lines, and the
global marts read from them against their definitions on the lines (``reference``): equal row for row,
also when an invoice spans months, countries or customers (where a sum over months of distinct counts would
count it twice)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text

from retail_platform.defs.partitions import MonthSpan
from retail_platform.defs.sql_assets import run_transform
from retail_platform.warehouse.migrations import migrate
from retail_platform.warehouse.sql_files import read_sql
from retail_platform_tests import marts
from retail_platform_tests.marts import (
    Line,
    build_facts,
    fetch_rows,
    insert_clean,
    random_lines,
    run_transforms,
)
from retail_platform_tests.marts import reference as ref

JAN, FEB = date(2010, 1, 1), date(2010, 2, 1)

HAND_MADE = [
    # Invoice 1: customer 7 in the UK, in January and (one more line, same product) in February.
    Line("1", quantity=2, unit_price="1.5", invoice_date="2010-01-04 10:00:00", customer_id=7),
    Line("1", stock_code="22041", quantity=1, unit_price="10", invoice_date="2010-01-04 10:00:00", customer_id=7),
    Line("1", stock_code="POST", quantity=1, unit_price="18", invoice_date="2010-01-04 10:00:00", customer_id=7),
    Line("1", quantity=3, unit_price="1.5", invoice_date="2010-02-01 09:00:00", customer_id=7),
    # Invoice 2: a guest in France; a zero-price line and a return line (no positive amount)
    Line("2", quantity=4, unit_price="0", invoice_date="2010-01-05 11:00:00", customer_id=None, country="France"),
    Line("2", quantity=-1, unit_price="1.5", invoice_date="2010-01-05 11:00:00", customer_id=None, country="France"),
    # Cancellation C3 of customer 7, an adjustment A4, a line without description of customer 8
    Line("C3", quantity=-1, unit_price="1.5", invoice_date="2010-01-06 12:00:00", customer_id=7),
    Line("A4", stock_code="B", quantity=1, unit_price="-50", invoice_date="2010-01-07 12:00:00", customer_id=None),
    Line("5", description=None, quantity=1, unit_price="2", invoice_date="2010-02-02 12:00:00", customer_id=8),
    Line("5", quantity=2, unit_price="1.5", invoice_date="2010-02-02 12:00:00", customer_id=8, country="EIRE"),
]  # fmt: skip

HEART = "85123A"
HEART_TEXT = "WHITE HANGING HEART T-LIGHT HOLDER"


def test_invoice_facts_by_hand(engine):
    insert_clean(engine, HAND_MADE)
    rows = fetch_rows(
        engine,
        "SELECT month, invoice_no, customer_id, country, is_cancellation, is_adjustment, lines, net_amount,"
        " positive_lines, positive_amount, purchase_lines, purchase_amount, last_purchase"
        " FROM clean.invoice_facts ORDER BY month, invoice_no, country",
    )
    t = datetime.fromisoformat
    # month, invoice, customer, country, cancel, adjust, lines, net, +lines, +amount, purchases, their amount, last
    assert rows == [
        (JAN, "1", 7, "United Kingdom", False, False, 3, Decimal("31.0"), 3, Decimal("31.0"), 3, Decimal("31.0"),
         t("2010-01-04 10:00")),
        (JAN, "2", None, "France", False, False, 2, Decimal("-1.5"), 0, Decimal(0), 0, Decimal(0), None),
        (JAN, "A4", None, "United Kingdom", False, True, 1, Decimal("-50"), 0, Decimal(0), 0, Decimal(0), None),
        (JAN, "C3", 7, "United Kingdom", True, False, 1, Decimal("-1.5"), 0, Decimal(0), 0, Decimal(0), None),
        (FEB, "1", 7, "United Kingdom", False, False, 1, Decimal("4.5"), 1, Decimal("4.5"), 1, Decimal("4.5"),
         t("2010-02-01 09:00")),
        (FEB, "5", 8, "EIRE", False, False, 1, Decimal("3.0"), 1, Decimal("3.0"), 1, Decimal("3.0"),
         t("2010-02-02 12:00")),
        (FEB, "5", 8, "United Kingdom", False, False, 1, Decimal("2"), 1, Decimal("2"), 0, Decimal(0), None),
    ]  # fmt: skip
    # units and the first line's date: the customer history of marts.customer_invoices (migration 023)
    history = "SELECT invoice_no, country, units, first_date FROM clean.invoice_facts ORDER BY month, invoice_no, country"
    assert fetch_rows(engine, history) == [
        ("1", "United Kingdom", 4, t("2010-01-04 10:00")),
        ("2", "France", 3, t("2010-01-05 11:00")),
        ("A4", "United Kingdom", 1, t("2010-01-07 12:00")),
        ("C3", "United Kingdom", -1, t("2010-01-06 12:00")),
        ("1", "United Kingdom", 3, t("2010-02-01 09:00")),
        ("5", "EIRE", 2, t("2010-02-02 12:00")),
        ("5", "United Kingdom", 1, t("2010-02-02 12:00")),
    ]


def test_product_facts_by_hand(engine):
    insert_clean(engine, HAND_MADE)
    months = fetch_rows(engine, "SELECT * FROM clean.product_months ORDER BY month, stock_code")
    # POST (non-product) and the adjustment's B are left out; C3 counts in units and sales, not in invoices
    assert months == [
        (JAN, "22041", 1, 1, Decimal("10"), 1, [7]),
        (JAN, HEART, 4, 2 + 4 - 1 - 1, Decimal("3.0") - Decimal("1.5") - Decimal("1.5"), 2, [7]),
        (FEB, HEART, 3, 3 + 1 + 2, Decimal("4.5") + Decimal("2") + Decimal("3.0"), 2, [7, 8]),
    ]
    descriptions = fetch_rows(engine, "SELECT * FROM clean.product_descriptions ORDER BY month, stock_code")
    assert descriptions == [
        (JAN, "22041", HEART_TEXT, 1),
        (JAN, HEART, HEART_TEXT, 4),
        (FEB, HEART, HEART_TEXT, 2),
    ]


def test_the_purchase_columns_are_those_of_clean_purchase_lines(engine):
    insert_clean(engine, random_lines(11, invoices=120))
    from_view = fetch_rows(
        engine,
        "SELECT invoice_month, invoice_no, customer_id, country, count(*), sum(amount), max(invoice_date)"
        " FROM clean.purchase_lines GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4",
    )
    from_facts = fetch_rows(
        engine,
        "SELECT month, invoice_no, customer_id, country, purchase_lines, purchase_amount, last_purchase"
        " FROM clean.invoice_facts WHERE purchase_lines > 0 ORDER BY 1, 2, 3, 4",
    )
    assert from_facts == from_view and from_view


def _facts(engine: Engine) -> dict[str, list[tuple]]:
    tables = {
        "clean.invoice_facts": "month, invoice_no, customer_id, country",
        "clean.product_months": "month, stock_code",
        "clean.product_descriptions": "month, stock_code, description",
    }
    return {
        table: fetch_rows(engine, f"SELECT * FROM {table} ORDER BY {order}")
        for table, order in tables.items()
    }


def test_a_month_run_rebuilds_only_its_months(engine):
    insert_clean(engine, HAND_MADE)
    before = _facts(engine)
    with engine.begin() as conn:  # February's lines change; a wrong January row shows if January is touched
        conn.execute(
            text("UPDATE clean.order_lines SET quantity = 9, amount = 9 * unit_price WHERE invoice_no = '5'")
        )
        conn.execute(text("UPDATE clean.invoice_facts SET lines = 99 WHERE month = '2010-01-01'"))
        run_transform(conn, "clean.order_facts", MonthSpan(date(2010, 2, 1), date(2010, 3, 1), False))
    after = _facts(engine)
    assert [row for row in after["clean.invoice_facts"] if row[0] == JAN] == [
        (*row[:6], 99, *row[7:]) for row in before["clean.invoice_facts"] if row[0] == JAN
    ]
    build_facts(engine)  # the full rebuild of every month
    full = _facts(engine)
    for table, rows in full.items():
        assert [r for r in after[table] if r[0] == FEB] == [r for r in rows if r[0] == FEB], table
    assert after["clean.product_months"] != before["clean.product_months"]


def _reference_equal(engine: Engine) -> None:
    run_transforms(engine, "marts.invoice_amount_stats", "marts.sales_by_country", "marts.top_products")
    for name, (from_facts, from_lines) in ref.against_lines(engine).items():
        assert from_facts == from_lines, name
        assert from_lines, name


def test_marts_from_facts_equal_their_definitions_on_hand_made_lines(engine):
    insert_clean(engine, HAND_MADE)
    _reference_equal(engine)
    top = fetch_rows(engine, "SELECT stock_code, invoices, customers FROM marts.top_products ORDER BY rank")
    assert top == [("22041", 1, 1), (HEART, 3, 2)]  # invoice 1 in two months counts once
    countries = fetch_rows(
        engine, "SELECT country, invoices, customers FROM marts.sales_by_country ORDER BY 1"
    )
    assert countries == [("EIRE", 1, 1), ("France", 1, 0), ("United Kingdom", 2, 2)]


def _spanning(lines: list[Line]) -> list[Line]:
    """Copies of some lines in another month, another country or for another customer, same invoice number."""
    moved = []
    for n, line in enumerate(lines[::7]):
        month = "2010-02" if line.invoice_date[:7] != "2010-02" else "2010-04"
        moved.append(
            line.but(
                invoice_date=f"{month}-1{n % 10} 10:00:00",
                quantity=line.quantity + (1 if line.quantity > 0 else -1),
            )
        )
        if n % 3 == 0:
            moved.append(line.but(country="Spain"))
        if n % 4 == 0:
            moved.append(line.but(customer_id=12999))
    return moved


@pytest.mark.parametrize("seed", [21, 22, 23])
def test_marts_from_facts_equal_their_definitions_on_random_lines(engine, seed):
    lines = random_lines(seed, invoices=300, customers=40)
    insert_clean(engine, lines + _spanning(lines))
    spans = fetch_rows(
        engine,
        "SELECT count(*) FROM (SELECT invoice_no FROM clean.invoice_facts GROUP BY 1 HAVING count(DISTINCT month) > 1) AS s",
    )
    assert spans[0][0] > 10
    _reference_equal(engine)


def test_the_migration_builds_the_facts_of_lines_already_there(engine, monkeypatch):
    """A warehouse migrated before 018, with lines in clean.order_lines, gets the facts the transform builds."""
    with engine.begin() as conn:
        for table in ("clean.invoice_facts", "clean.product_months", "clean.product_descriptions"):
            conn.execute(text(f"DROP TABLE {table} CASCADE"))  # marts.customer_invoices: 023
        conn.execute(text("DELETE FROM meta.schema_migrations WHERE version IN (18, 23)"))
    with monkeypatch.context() as patched:  # the lines as an older clean transform left them: no facts
        patched.setattr(marts, "build_facts", lambda _engine: None)
        insert_clean(engine, random_lines(12, invoices=80))
    assert [m.version for m in migrate(engine)] == [18, 23]  # 023 adds two columns to the facts 018 built
    migrated = _facts(engine)
    build_facts(engine)
    assert migrated == _facts(engine)
    assert migrated["clean.invoice_facts"] and migrated["clean.product_months"]


@pytest.mark.parametrize("seed", [5, 6])
def test_the_row_count_from_the_facts_is_the_count_of_lines(engine, seed):
    """clean/order_lines reports its row count from the invoice facts (``queries/order_lines_row_count.sql``)."""
    insert_clean(engine, random_lines(seed, invoices=60))
    with engine.connect() as conn:
        counted = conn.execute(text("SELECT count(*) FROM clean.order_lines")).scalar_one()
        from_facts = conn.execute(text(read_sql("queries/order_lines_row_count.sql"))).scalar_one()
    assert counted > 0 and from_facts == counted
