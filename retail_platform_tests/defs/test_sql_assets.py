"""``defs/sql_assets.py``: how a transform script is split into statements, which of them a month run executes,
and the first build of an empty month table."""

from __future__ import annotations

from datetime import date

from sqlalchemy import event, text

from retail_platform.defs.partitions import MonthSpan
from retail_platform.defs.sql_assets import rebuild_table, run_transform, split_statements
from retail_platform_tests.helpers import index_definitions
from retail_platform_tests.marts import Line, load_raw


def test_statements_split_on_semicolons_outside_literals_identifiers_and_dollar_quotes():
    script = """-- a comment; with a semicolon
SELECT 'a;b', 'it''s; fine' FROM t;  /* block; comment */
SELECT "odd;name" FROM u;
DO $body$ BEGIN PERFORM 1; END $body$;
SELECT 1"""
    statements = [" ".join(s.split()) for s in split_statements(script)]
    assert statements == [
        "SELECT 'a;b', 'it''s; fine' FROM t",
        'SELECT "odd;name" FROM u',
        "DO $body$ BEGIN PERFORM 1; END $body$",
        "SELECT 1",
    ]


def test_a_month_run_skips_the_transforms_analyze_and_a_full_refresh_runs_it(engine):
    executed: list[str] = []

    def remember(_conn, _cursor, statement, *_args) -> None:
        executed.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", remember)
    try:
        with engine.begin() as conn:
            run_transform(conn, "clean.order_lines", MonthSpan(date(2010, 1, 1), date(2010, 2, 1), False))
        month_run, executed[:] = list(executed), []
        with engine.begin() as conn:
            run_transform(conn, "clean.order_lines")
        full_refresh = list(executed)
    finally:
        event.remove(engine, "before_cursor_execute", remember)

    def analyzed(statements: list[str]) -> list[str]:
        return [s for s in statements if s.upper().startswith("ANALYZE")]

    assert analyzed(month_run) == []
    assert analyzed(full_refresh) == ["ANALYZE clean.order_lines", "ANALYZE clean.customer_months"]
    assert any(s.startswith("INSERT INTO clean.order_lines") for s in month_run)


def _clean_state(engine) -> tuple[int, list[str], list[tuple]]:
    with engine.connect() as conn:
        relfile = conn.execute(
            text("SELECT relfilenode FROM pg_class WHERE oid = 'clean.order_lines'::regclass")
        ).scalar()
        indexes = index_definitions(conn, "clean.order_lines")
        facts = conn.execute(text("SELECT * FROM clean.product_months ORDER BY 1, 2")).all()
        lines = conn.execute(text("SELECT * FROM clean.order_lines ORDER BY line_id")).all()
    return relfile, indexes, [*lines, *facts]


def test_the_first_build_takes_the_empty_table_and_builds_its_indexes_again(engine):
    load_raw(  # two months, a product bought by two customers
        engine,
        [
            Line("1", quantity=2, unit_price="1.5", invoice_date="2010-01-04 10:00:00", customer_id=7),
            Line("2", quantity=1, unit_price="1.5", invoice_date="2010-02-01 09:00:00", customer_id=8),
            Line("2", stock_code="POST", unit_price="18", invoice_date="2010-02-01 09:00:00", customer_id=8),
        ],
    )
    empty_file, indexes, _ = _clean_state(engine)
    build = lambda: rebuild_table(  # noqa: E731
        engine, "clean.order_lines", month_column="invoice_month", facts=("clean.order_facts",)
    )
    build()
    first_file, first_indexes, first_rows = _clean_state(engine)
    assert first_file != empty_file  # truncated in the build's transaction: new files, no WAL for its rows
    assert first_indexes == indexes and first_rows
    build()  # the table has rows now: rebuilt in place (MVCC), the same rows
    again_file, again_indexes, again_rows = _clean_state(engine)
    assert (again_file, again_indexes, again_rows) == (first_file, indexes, first_rows)
