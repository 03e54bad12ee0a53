-- Parsing helpers for the load: they return NULL instead of raising, so that one bad value rejects one line
-- (with a reason) rather than aborting the whole load. Single-expression SQL functions: the planner inlines
-- them when called on a column, so they cost no more than the expression written out. (Timestamps are parsed
-- inline in sql/ingestion/02_check_stage.sql: PostgreSQL's regex captures are too slow for a million rows.)

-- Integers as exported by spreadsheets and data frames: '12', '-3', '12.0', '13085.0'. Out of int range: NULL.
CREATE FUNCTION raw.parse_integer(value text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN value ~ '^\s*[+-]?\d{1,10}(\.0*)?\s*$' THEN CASE
            WHEN trim(value)::numeric BETWEEN -2147483648 AND 2147483647 THEN trim(value)::numeric::integer
        END
    END
$$;

-- Exact decimals: '2.1', '0.001', '-11062.06', '1e-05'. Trailing zeros are dropped so that '2.10' and '2.1'
-- are the same price (line identity compares canonical values).
CREATE FUNCTION raw.parse_numeric(value text) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN value ~ '^\s*[+-]?(\d{1,15}(\.\d{0,12})?|\.\d{1,12})([eE][+-]?\d{1,2})?\s*$'
            THEN trim_scale(trim(value)::numeric)
    END
$$;

-- One field as it would appear in a CSV line, to rebuild the raw text of a rejected line.
CREATE FUNCTION raw.csv_field(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN value IS NULL THEN ''
        WHEN value ~ '[",\r\n]' OR value <> trim(value) THEN '"' || replace(value, '"', '""') || '"'
        ELSE value
    END
$$;
