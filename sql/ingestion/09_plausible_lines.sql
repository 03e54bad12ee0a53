-- Plausibility bounds (issue 13), run on a checked block right after 02_check_stage.sql: a well-formed line
-- that cannot be a real sale is rejected with a reason naming the column, like a malformed one, so that one
-- bad line never reaches the marts (it stays in raw.rejected_lines with its text). The bounds are the load's
-- (retail_platform/settings.py, PlausibilitySettings): dates from :first_date and before :after_date (the day
-- after tomorrow, from the load's start), price and quantity magnitudes, customer ids above zero. The loader's
-- own typing (typed_blocks.py) sends every block holding such a value here, so both paths agree. A text value
-- longer than :max_field characters (columns.MAX_FIELD_CHARS) rejects its line the same way.
UPDATE load_checked AS c
SET problems = array_remove(ARRAY[
    CASE WHEN c.invoice_date < CAST(:first_date AS timestamp)
         THEN format('invoice_date: %s is before the first plausible date %s (RETAIL_FIRST_PLAUSIBLE_DATE)',
                     c.invoice_date, CAST(:first_date AS timestamp)::date)
         WHEN c.invoice_date >= CAST(:after_date AS timestamp)
         THEN format('invoice_date: %s is after tomorrow (lines may be dated up to %s, RETAIL_MAX_DAYS_AHEAD)', c.invoice_date,
                     (CAST(:after_date AS timestamp) - interval '1 second'))
    END,
    CASE WHEN abs(c.quantity::bigint) > CAST(:max_quantity AS bigint)
         THEN format('quantity: %s is beyond the plausible magnitude %s (RETAIL_MAX_ABS_QUANTITY)',
                     c.quantity, :max_quantity)
    END,
    CASE WHEN abs(c.unit_price) > CAST(:max_price AS numeric)
         THEN format('unit_price: %s is beyond the plausible magnitude %s (RETAIL_MAX_ABS_UNIT_PRICE)',
                     left(c.price_text, 40), CAST(:max_price AS numeric))
    END,
    CASE WHEN c.customer_id <= 0 THEN format('customer_id: %s is not a positive id', c.customer_id) END,
    CASE WHEN length(c.invoice_no) > CAST(:max_field AS integer)
         THEN format('invoice_no: %s characters, above the limit of %s', length(c.invoice_no), :max_field) END,
    CASE WHEN length(c.stock_code) > CAST(:max_field AS integer)
         THEN format('stock_code: %s characters, above the limit of %s', length(c.stock_code), :max_field) END,
    CASE WHEN length(c.description) > CAST(:max_field AS integer)
         THEN format('description: %s characters, above the limit of %s', length(c.description), :max_field) END,
    CASE WHEN length(c.country) > CAST(:max_field AS integer)
         THEN format('country: %s characters, above the limit of %s', length(c.country), :max_field) END
], NULL)
WHERE cardinality(c.problems) = 0
  AND (c.invoice_date < CAST(:first_date AS timestamp) OR c.invoice_date >= CAST(:after_date AS timestamp)
       OR abs(c.quantity::bigint) > CAST(:max_quantity AS bigint) OR abs(c.unit_price) > CAST(:max_price AS numeric)
       OR c.customer_id <= 0
       OR greatest(length(c.invoice_no), length(c.stock_code), length(c.description), length(c.country))
          > CAST(:max_field AS integer));
