"""The shop's OLTP schema (orders never edited, lines never changed, every write stamped with its transaction)
and the simulator (realistic orders and cancellations)."""

from __future__ import annotations

from datetime import datetime

import psycopg
import pytest
from sqlalchemy import text

from retail_platform.oltp.connection import (
    apply_shop_schema,
    database_exists,
    ensure_database,
    resolve_shop_source,
)
from retail_platform.oltp.simulator import ShopSimulator


def test_schema_is_applied_once_and_recorded(shop):
    assert apply_shop_schema(shop) == []
    with shop.connect() as conn:
        assert conn.execute(text("SELECT version FROM shop.schema_versions")).scalars().all() == [1]


def test_placed_orders_and_their_lines_never_change_but_status_changes_are_stamped(shop_url, shop):
    ShopSimulator(shop_url, seed=1, cancel_share=0).place_orders(2)
    with psycopg.connect(shop_url, autocommit=True) as conn:
        order_id, xid = conn.execute(
            "SELECT order_id, change_xid::text FROM shop.orders ORDER BY 1 LIMIT 1"
        ).fetchone()
        with pytest.raises(psycopg.errors.RaiseException, match="never change"):
            conn.execute("UPDATE shop.orders SET customer_id = 1 WHERE order_id = %s", (order_id,))
        with pytest.raises(psycopg.errors.RaiseException, match="never changed or deleted"):
            conn.execute("UPDATE shop.order_lines SET quantity = 99 WHERE order_id = %s", (order_id,))
        with pytest.raises(psycopg.errors.RaiseException, match="never changed or deleted"):
            conn.execute("DELETE FROM shop.order_lines WHERE order_id = %s", (order_id,))
        conn.execute("UPDATE shop.orders SET status = 'cancelled' WHERE order_id = %s", (order_id,))
        new_xid = conn.execute(
            "SELECT change_xid::text FROM shop.orders WHERE order_id = %s", (order_id,)
        ).fetchone()[0]
    assert int(new_xid) > int(xid)


def test_simulated_orders_look_like_the_real_shop(shop_url, shop):
    stats = ShopSimulator(shop_url, seed=7).place_orders(400)
    assert stats.orders == 400 and stats.sales + stats.cancellations == 400
    assert 0.08 < stats.cancellations / 400 < 0.25  # the real share is 16%
    with psycopg.connect(shop_url) as conn:
        lines = conn.execute("SELECT count(*) FROM shop.order_lines").fetchone()[0]
        assert lines == stats.lines
        assert 5 < lines / 400 < 40  # real baskets: median 13 lines
        bad_cancellations = conn.execute(
            "SELECT count(*) FROM shop.orders o JOIN shop.order_lines l USING (order_id)"
            " WHERE o.kind = 'cancellation' AND (l.quantity >= 0 OR o.invoice_no NOT LIKE 'C%'"
            "  OR o.cancels_order_id IS NULL)"
        ).fetchone()[0]
        assert bad_cancellations == 0
        # a cancellation has the customer of its sale and cancels one of its products at the sale's price
        mismatched = conn.execute(
            "SELECT count(*) FROM shop.orders c JOIN shop.orders s ON s.order_id = c.cancels_order_id"
            " JOIN shop.order_lines cl ON cl.order_id = c.order_id"
            " WHERE c.customer_id IS DISTINCT FROM s.customer_id OR NOT EXISTS ("
            "  SELECT 1 FROM shop.order_lines sl WHERE sl.order_id = s.order_id AND sl.stock_code = cl.stock_code"
            "  AND sl.unit_price = cl.unit_price AND sl.quantity >= -cl.quantity)"
        ).fetchone()[0]
        assert mismatched == 0
        statuses = dict(
            conn.execute("SELECT status, count(*) FROM shop.orders WHERE kind = 'sale' GROUP BY 1").fetchall()
        )
        assert statuses.get("partially_cancelled", 0) + statuses.get("cancelled", 0) == stats.cancellations
        guests = conn.execute(
            "SELECT avg((customer_id IS NULL)::int) FROM shop.orders WHERE kind = 'sale'"
        ).fetchone()[0]
        assert 0.02 < guests < 0.4
        invoices = [row[0] for row in conn.execute("SELECT invoice_no FROM shop.orders ORDER BY order_id")]
        assert invoices[0] == "700001" and len(set(invoices)) == 400


def test_a_simulated_clock_keeps_shop_hours(shop_url, shop):
    ShopSimulator(shop_url, seed=3, start=datetime(2010, 12, 10, 7, 30)).place_orders(300)
    with psycopg.connect(shop_url) as conn:
        times = [row[0] for row in conn.execute("SELECT placed_at FROM shop.orders ORDER BY order_id")]
    assert times == sorted(times) and times[0] >= datetime(2010, 12, 10, 7, 30)
    assert all(t.weekday() != 5 and (7, 30) <= (t.hour, t.minute) <= (20, 30) for t in times)
    # about 77 orders per trading day
    days = len({t.date() for t in times})
    assert 2 <= days <= 8


def test_default_shop_database_sits_beside_the_warehouse(database_url):
    source = resolve_shop_source(None, database_url)
    assert not source.explicit and source.database.endswith("_shop")
    assert not database_exists(source.url)
    try:
        assert ensure_database(source.url) and database_exists(source.url) and not ensure_database(source.url)
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{source.database}" WITH (FORCE)')
    explicit = resolve_shop_source("postgresql://shop@db.example:5432/orders", database_url)
    assert explicit.explicit and explicit.database == "orders"
