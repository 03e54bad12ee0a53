"""The incremental extract: every shop line lands in raw.transactions exactly once, whatever the extracts see;
an extract with nothing new loads nothing (and never calls the loader); the snapshot mark never misses a
transaction that commits after an extract started."""

from __future__ import annotations

from datetime import datetime

import psycopg
from sqlalchemy import text

from retail_platform.oltp.extract import extract_shop, pending_changes, read_watermark
from retail_platform.oltp.simulator import ShopSimulator


def _count(engine, sql: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar_one()


def _shop_lines(shop_url: str) -> int:
    with psycopg.connect(shop_url) as conn:
        return conn.execute("SELECT count(*) FROM shop.order_lines").fetchone()[0]


def _place(conn: psycopg.Connection, invoice: str, lines: list[tuple], customer: int | None = 13085) -> int:
    order_id = conn.execute(
        "INSERT INTO shop.orders (invoice_no, kind, customer_id, country, placed_at)"
        " VALUES (%s, 'sale', %s, 'United Kingdom', %s) RETURNING order_id",
        (invoice, customer, datetime(2011, 1, 3, 10, 0)),
    ).fetchone()[0]
    _add_lines(conn, order_id, lines)
    return order_id


def _add_lines(conn: psycopg.Connection, order_id: int, lines: list[tuple]) -> None:
    start = conn.execute(
        "SELECT coalesce(max(line_no), 0) FROM shop.order_lines WHERE order_id = %s", (order_id,)
    ).fetchone()[0]
    for offset, (code, description, quantity, price) in enumerate(lines, start=1):
        conn.execute(
            "INSERT INTO shop.order_lines (order_id, line_no, stock_code, description, quantity, unit_price)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (order_id, start + offset, code, description, quantity, price),
        )


def test_orders_are_loaded_once_and_an_extract_with_nothing_new_loads_nothing(shop_url, shop, engine):
    simulator = ShopSimulator(shop_url, seed=11)
    placed = simulator.place_orders(300)
    assert pending_changes(shop, engine).orders == 300

    first = extract_shop(shop, engine, run_id="run-1")
    assert first.status == "loaded" and first.orders == 300
    assert first.lines == first.lines_loaded == placed.lines == _shop_lines(shop_url)
    assert first.reset_reason == "first extract: every order"

    assert pending_changes(shop, engine).orders == 0
    ledger_rows = _count(engine, "SELECT count(*) FROM raw.file_loads")
    again = extract_shop(shop, engine, run_id="run-2")
    assert again.status == "nothing_new" and again.load is None and again.lines_loaded == 0
    assert _count(engine, "SELECT count(*) FROM raw.file_loads") == ledger_rows  # the loader was not called

    more = simulator.place_orders(80)  # new sales and cancellations of earlier ones (changed orders)
    third = extract_shop(shop, engine, run_id="run-3")
    assert third.lines_loaded == more.lines
    assert third.load.lines_already_present == third.lines - more.lines  # whole changed orders, already in
    assert _count(engine, "SELECT count(*) FROM raw.transactions") == _shop_lines(shop_url)
    assert _count(engine, "SELECT count(*) FROM raw.shop_orders") == _shop_lines(shop_url)
    watermark = read_watermark(engine.connect())
    assert watermark.extracts == 3 and watermark.snapshot == third.mark_after

    # A full re-extract (the mark ignored) loads nothing new either.
    full = extract_shop(shop, engine, full=True)
    assert full.lines == _shop_lines(shop_url) and full.lines_loaded == 0
    with engine.connect() as conn:
        ledger = conn.execute(
            text("SELECT file_name, file_format, status, run_id FROM raw.file_loads ORDER BY load_id")
        ).all()
    assert [row.file_format for row in ledger] == ["oltp"] * 3
    assert all(row.file_name.startswith(f"oltp:{shop.url.database}@") for row in ledger)
    assert [row.run_id for row in ledger] == ["run-1", "run-3", None]


def test_identical_lines_of_an_order_keep_their_copy_numbers_across_extracts(shop_url, shop, engine):
    item = ("85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 6, "2.55")
    with psycopg.connect(shop_url, autocommit=True) as conn:
        order_id = _place(conn, "800001", [item, item, ("22423", "REGENCY CAKESTAND 3 TIER", 1, "12.75")])
    assert extract_shop(shop, engine).lines_loaded == 3
    with psycopg.connect(shop_url, autocommit=True) as conn:
        _add_lines(conn, order_id, [item])  # the same item scanned a third time, later
    result = extract_shop(shop, engine)
    assert (result.lines, result.lines_loaded, result.load.lines_already_present) == (4, 1, 3)
    with engine.connect() as conn:
        copies_per_load = (
            conn.execute(
                text(
                    "SELECT count(*) FROM raw.transactions WHERE stock_code = '85123A'"
                    " GROUP BY load_id ORDER BY load_id"
                )
            )
            .scalars()
            .all()
        )
    assert copies_per_load == [2, 1]  # copies 1 and 2 from the first extract, copy 3 from the second


def test_a_transaction_that_commits_after_an_extract_started_is_not_missed(shop_url, shop, engine):
    """The case a timestamp high-water mark gets wrong: rows stamped before the mark, committed after it."""
    with psycopg.connect(shop_url, autocommit=True) as conn:
        _place(conn, "800010", [("21232", "STRAWBERRY CERAMIC TRINKET BOX", 12, "1.25")])
    slow = psycopg.connect(shop_url)
    try:
        # A web request that started (and wrote) before the extract, and commits after it.
        _place(slow, "800011", [("21231", "SWEETHEART CERAMIC TRINKET BOX", 12, "1.25")])
        first = extract_shop(shop, engine)
        assert first.lines_loaded == 1  # 800011 is not committed: not seen, and not lost either
        slow.commit()
    finally:
        slow.close()
    assert pending_changes(shop, engine).orders == 1
    second = extract_shop(shop, engine)
    assert second.lines_loaded == 1 and second.invoices == ("800011", "800011")


def test_another_source_database_starts_over_safely(shop_url, shop, engine):
    ShopSimulator(shop_url, seed=5).place_orders(20)
    extract_shop(shop, engine)
    with engine.begin() as conn:  # as if RETAIL_OLTP_URL now named another database
        conn.execute(text("UPDATE ops.extract_watermarks SET source_identity = 'elsewhere'"))
    pending = pending_changes(shop, engine)
    assert pending.orders == 20 and "source database changed" in pending.reset_reason
    result = extract_shop(shop, engine)
    assert result.lines_loaded == 0 and "source database changed" in result.reset_reason
