-- The shop's order lines committed before the mark: what raw.shop_orders must hold once each.
SELECT count(*) FROM shop.order_lines WHERE pg_visible_in_snapshot(change_xid, CAST(:mark AS pg_snapshot))
