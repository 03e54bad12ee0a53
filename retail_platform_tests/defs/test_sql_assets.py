"""``defs/sql_assets.py``'s pure parts: how a transform script is split into statements, and which of them a
month run executes."""

from __future__ import annotations

from datetime import date

from sqlalchemy import event

from retail_platform.defs.partitions import MonthSpan
from retail_platform.defs.sql_assets import run_transform, split_statements


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
