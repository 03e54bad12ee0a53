-- raw.transactions.line_id: its identity sequence hands out 1,000 numbers per call instead of one. A load
-- COPYs a million lines in one session, and one sequence call per line cost about a tenth of the COPY.
-- line_id is a surrogate key: numbers a session cached but did not use are skipped (gaps), and a later load in
-- another session may get lower numbers than an earlier one; within a load they still follow the file's order.
-- The order of loads is raw.file_loads.load_id.
ALTER TABLE raw.transactions ALTER COLUMN line_id SET CACHE 1000;
