-- How many orders an extract would read now, counted up to :limit (the placeholder as in changed_lines.sql).
SELECT count(*) FROM (SELECT 1 FROM ({changed}) AS c LIMIT :limit) AS capped
