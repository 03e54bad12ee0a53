-- clean.order_lines loses its primary key on line_id. Line ids are content hashes, so every inserted line went
-- to a random leaf of that B-tree: at 1,067,371 lines the key's upkeep took about 4 of the 5.4 s of the full
-- refresh's INSERT (1.5 s without any index), and every day's refresh paid the same per rebuilt line. Nothing
-- reads the table by line id. A line's identity is unique where it is made (raw.line_id_cache, the loader's
-- exactly-once insert), clean.order_lines is rebuilt from raw.transactions month by month in one transaction,
-- and the check clean_covers_raw now fails on a line found twice as well as on a missing one.
-- Run at deployment (`retail-platform migrate`): the DROP takes a brief exclusive lock, once.
ALTER TABLE clean.order_lines DROP CONSTRAINT order_lines_pkey;
