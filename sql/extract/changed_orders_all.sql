-- Every order of the shop (first extract, or after the source changed).
SELECT order_id FROM shop.orders
