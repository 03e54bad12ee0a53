-- Lines read and lines rejected in this block.
SELECT count(*) AS lines_read, count(*) FILTER (WHERE cardinality(problems) > 0) AS lines_rejected
FROM load_checked;
