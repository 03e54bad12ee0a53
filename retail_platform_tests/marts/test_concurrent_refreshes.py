"""Two refreshes of one table at once (two ``retail-platform run``s on one warehouse, issue 13 defect 7): the
second waits for the first to commit instead of inserting rows the first just inserted; both succeed and the
table holds every line once."""

from __future__ import annotations

import threading

import pytest

from retail_platform.defs.sql_assets import run_transform
from retail_platform_tests.marts import fetch_rows, load_raw, random_lines, run_transforms
from retail_platform_tests.processes import wait_for


def _waiting_on_lock(engine) -> bool:
    rows = fetch_rows(
        engine,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        " AND pid <> pg_backend_pid()",
    )
    return rows[0][0] > 0


@pytest.mark.parametrize("table", ["clean.order_lines", "marts.sales_by_country"])
def test_a_second_refresh_waits_for_the_first_and_both_succeed(engine, table):
    lines = random_lines(seed=5, invoices=120)
    load_raw(engine, lines)
    if table != "clean.order_lines":
        run_transforms(engine, "clean.order_lines", "clean.order_facts")  # what sales_by_country reads
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with engine.begin() as conn:
                run_transform(conn, table)
        except BaseException as error:  # reported by the test thread
            errors.append(error)

    with engine.begin() as conn:
        run_transform(conn, table)  # the first refresh, not committed yet
        thread = threading.Thread(target=second)
        thread.start()
        wait_for("the second refresh to wait for the first", lambda: _waiting_on_lock(engine), 60, 0.2)
    thread.join(120)
    assert not thread.is_alive()
    assert errors == []
    if table == "clean.order_lines":
        (count,) = fetch_rows(engine, "SELECT count(*) FROM clean.order_lines")[0]
        assert count == len(lines)
    else:
        countries = fetch_rows(engine, "SELECT count(*), count(DISTINCT country) FROM marts.sales_by_country")
        assert countries[0][0] == countries[0][1] > 0
