-- Orders written after the snapshot :mark (an order or one of its lines changed by a transaction that the
-- snapshot did not see).
SELECT o.order_id FROM shop.orders AS o
WHERE o.change_xid >= pg_snapshot_xmin(CAST(:mark AS pg_snapshot))
  AND NOT pg_visible_in_snapshot(o.change_xid, CAST(:mark AS pg_snapshot))
UNION
SELECT l.order_id FROM shop.order_lines AS l
WHERE l.change_xid >= pg_snapshot_xmin(CAST(:mark AS pg_snapshot))
  AND NOT pg_visible_in_snapshot(l.change_xid, CAST(:mark AS pg_snapshot))
