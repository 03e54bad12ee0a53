"""Every SQL-backed check passes on a warehouse the graph built, and fails (with its severity, an alert in
ops.alerts, and a resolution once it passes again) after a targeted corruption of hand-picked rows."""

from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import text

CLEAN = dg.AssetKey(["clean", "order_lines"])
FILE_LOADS = dg.AssetKey(["raw", "file_loads"])
TRANSACTIONS = dg.AssetKey(["raw", "transactions"])
REJECTED = dg.AssetKey(["raw", "rejected_lines"])
KPIS = dg.AssetKey(["marts", "monthly_kpis"])
STATS = dg.AssetKey(["marts", "invoice_amount_stats"])
SCORES = dg.AssetKey(["marts", "rfm_scores"])
SEGMENTS = dg.AssetKey(["marts", "rfm_segments"])

FIRST_LINE = "(SELECT min(line_id) FROM clean.order_lines)"

# check -> (asset, corruption, expected severity)
CORRUPTIONS = {
    "raw_file_accounting": (
        FILE_LOADS,
        "UPDATE raw.file_loads SET lines_read = lines_read + 1, lines_loaded = lines_loaded + 1",
        "ERROR",
    ),
    "raw_rejected_share": (
        TRANSACTIONS,
        "UPDATE raw.file_loads SET lines_rejected = lines_read / 2, lines_already_present = 0,"
        " lines_loaded = lines_read - lines_read / 2",
        "WARN",
    ),
    "raw_rejected_lines_explained": (
        REJECTED,
        "INSERT INTO raw.rejected_lines (load_id, file_name, source_export, source_row, raw_text, reason)"
        " SELECT load_id, file_name, file_name, 2, 'x,y', '' FROM raw.file_loads LIMIT 1",
        "ERROR",
    ),
    "clean_keys_not_null": (
        CLEAN,
        f"UPDATE clean.order_lines SET invoice_no = ' ' WHERE line_id = {FIRST_LINE}",
        "ERROR",
    ),
    "clean_amount_consistent": (
        CLEAN,
        f"UPDATE clean.order_lines SET amount = amount + 0.01 WHERE line_id = {FIRST_LINE}",
        "ERROR",
    ),
    "clean_dates_plausible": (
        CLEAN,
        # systemic: 5% of the lines dated a month ahead (a single line passes, see below)
        "UPDATE clean.order_lines SET invoice_date = now() + interval '30 days' WHERE line_id % 20 = 0",
        "ERROR",
    ),
    "clean_covers_raw": (CLEAN, f"DELETE FROM clean.order_lines WHERE line_id = {FIRST_LINE}", "ERROR"),
    "clean_cancellations_negative": (
        CLEAN,
        "UPDATE clean.order_lines SET quantity = 3 WHERE line_id = (SELECT min(line_id) FROM clean.order_lines"
        " WHERE is_cancellation AND NOT is_non_product)",
        "WARN",
    ),
    "monthly_kpis_net_sales_reconcile": (
        KPIS,
        "UPDATE marts.monthly_kpis SET net_sales = net_sales + 1 WHERE month = (SELECT max(month) FROM marts.monthly_kpis)",
        "ERROR",
    ),
    "monthly_kpis_customers_add_up": (
        KPIS,
        "UPDATE marts.monthly_kpis SET new_customers = new_customers + 1 WHERE month = (SELECT min(month) FROM marts.monthly_kpis)",
        "ERROR",
    ),
    "monthly_kpis_months_contiguous": (
        KPIS,
        "DELETE FROM marts.monthly_kpis WHERE month = (SELECT min(month) + interval '1 month' FROM marts.monthly_kpis)",
        "ERROR",
    ),
    "invoice_amount_stats_ordered": (
        STATS,
        "UPDATE marts.invoice_amount_stats SET median_amount = max_amount + 1 WHERE variant = 'all'",
        "ERROR",
    ),
    "rfm_scores_one_row_per_customer": (
        SCORES,
        "DELETE FROM marts.rfm_scores WHERE customer_id = (SELECT min(customer_id) FROM marts.rfm_scores)",
        "ERROR",
    ),
    "rfm_scores_valid": (
        SCORES,
        "UPDATE marts.rfm_scores SET rfm_score = '000' WHERE customer_id = (SELECT min(customer_id) FROM marts.rfm_scores)",
        "ERROR",
    ),
    "rfm_scores_segment_rule": (
        SCORES,
        "UPDATE marts.rfm_scores SET segment = CASE segment WHEN 'Champions' THEN 'Hibernating' ELSE 'Champions' END"
        " WHERE customer_id = (SELECT min(customer_id) FROM marts.rfm_scores)",
        "ERROR",
    ),
    "rfm_segments_add_up": (
        SEGMENTS,
        "UPDATE marts.rfm_segments SET customers = customers + 1 WHERE segment = 'Champions'",
        "ERROR",
    ),
}


@pytest.mark.parametrize("check_name", sorted(CORRUPTIONS))
def test_check_passes_then_fails_on_corruption_and_alerts(warehouse, check_name):
    asset, corruption, severity = CORRUPTIONS[check_name]
    key = dg.AssetCheckKey(asset, check_name)

    assert warehouse.run_check(key).passed

    warehouse.sql(corruption)
    failed = warehouse.run_check(key)
    assert not failed.passed
    assert failed.severity.value == severity
    assert failed.metadata["failed_rows"].value >= 1

    with warehouse.engine.connect() as conn:
        alerts = conn.execute(
            text("SELECT kind, severity, asset_key, check_name, message, resolved_at FROM ops.alerts")
        ).all()
    assert len(alerts) == 1
    alert = alerts[0]
    assert (alert.kind, alert.severity, alert.check_name) == ("check_failure", severity, check_name)
    assert alert.asset_key == asset.to_user_string() and alert.resolved_at is None
    assert check_name in alert.message

    # Failing again does not page twice; the alert stays open.
    assert not warehouse.run_check(key).passed
    with warehouse.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM ops.alerts")).scalar_one() == 1


def test_clean_covers_raw_fails_on_a_line_found_twice(warehouse):
    """clean.order_lines has no key (migration 021): this check is what finds a duplicated line."""
    key = dg.AssetCheckKey(CLEAN, "clean_covers_raw")
    assert warehouse.run_check(key).passed
    warehouse.sql(
        f"INSERT INTO clean.order_lines SELECT * FROM clean.order_lines WHERE line_id = {FIRST_LINE}"
    )
    failed = warehouse.run_check(key)
    assert not failed.passed
    assert failed.metadata["failed_rows"].value == 1


def test_one_implausible_clean_line_is_listed_but_does_not_block(warehouse):
    """Issue 13, defect 3: a single line dated 9999-12-31 (one loaded before the load's bounds existed) used
    to fail the blocking clean_dates_plausible and stop every mart; it is listed, the check passes."""
    key = dg.AssetCheckKey(CLEAN, "clean_dates_plausible")
    warehouse.sql(f"UPDATE clean.order_lines SET invoice_date = '9999-12-31' WHERE line_id = {FIRST_LINE}")
    evaluation = warehouse.run_check(key)
    assert evaluation.passed
    assert "1 of 3000 lines" in evaluation.metadata["details"].value
    assert "9999-12-31" in evaluation.metadata["details"].value


# The line each clean check's corruption hits (its month is the one whose run must find it).
CORRUPTED_LINE = {
    "clean_amount_consistent": FIRST_LINE,
    "clean_cancellations_negative": "(SELECT min(line_id) FROM clean.order_lines"
    " WHERE is_cancellation AND NOT is_non_product)",
    "clean_covers_raw": FIRST_LINE,
    "clean_dates_plausible": FIRST_LINE,
    "clean_keys_not_null": FIRST_LINE,
}


@pytest.mark.parametrize("check_name", sorted(CORRUPTED_LINE))
def test_clean_checks_look_only_at_the_months_their_run_rebuilt(warehouse, check_name):
    """Issue 12: a refresh of some months checks those months, not every line. A corruption in one month is
    found by a run of that month and by a full refresh, not by a run of another month."""
    from retail_platform.defs.partitions import month_range_tags, next_month

    key = dg.AssetCheckKey(CLEAN, check_name)
    with warehouse.engine.connect() as conn:
        month = conn.execute(
            text(f"SELECT invoice_month FROM clean.order_lines WHERE line_id = {CORRUPTED_LINE[check_name]}")
        ).scalar_one()
        other = conn.execute(
            text("SELECT max(invoice_month) FROM clean.order_lines WHERE invoice_month <> :month"),
            {"month": month},
        ).scalar_one()
    if check_name == "clean_dates_plausible":  # a share-based check: the whole month dated ahead
        corruption = "UPDATE clean.order_lines SET invoice_date = now() + interval '30 days' WHERE invoice_month = :month"
    else:
        corruption = CORRUPTIONS[check_name][1]
    with warehouse.engine.begin() as conn:
        assert conn.execute(text(corruption), {"month": month}).rowcount >= 1

    elsewhere = warehouse.run_check(key, tags=month_range_tags(other, other))
    assert elsewhere.passed, elsewhere.metadata["details"].value
    assert elsewhere.metadata["months_checked"].value == f"{other} .. {next_month(other)}"
    assert not warehouse.run_check(key, tags=month_range_tags(month, month)).passed
    every = warehouse.run_check(key)
    assert every.metadata["months_checked"].value == "every month"
    if check_name != "clean_dates_plausible":  # there the month's share of all lines decides
        assert not every.passed


def test_a_pass_over_other_months_leaves_a_monthly_checks_alert_open(warehouse):
    """Issue 12's month-scoped clean checks: a refresh of April passing says nothing of March's bad line."""
    from retail_platform.defs.partitions import month_range_tags

    key = dg.AssetCheckKey(CLEAN, "clean_amount_consistent")
    with warehouse.engine.connect() as conn:
        month = conn.execute(
            text(f"SELECT invoice_month FROM clean.order_lines WHERE line_id = {FIRST_LINE}")
        ).scalar_one()
        other = conn.execute(
            text("SELECT max(invoice_month) FROM clean.order_lines WHERE invoice_month <> :m"), {"m": month}
        ).scalar_one()
    warehouse.sql(f"UPDATE clean.order_lines SET amount = amount + 1 WHERE line_id = {FIRST_LINE}")
    assert not warehouse.run_check(key).passed

    def open_alerts() -> int:
        with warehouse.engine.connect() as conn:
            return conn.execute(
                text("SELECT count(*) FROM ops.alerts WHERE resolved_at IS NULL")
            ).scalar_one()

    assert warehouse.run_check(key, tags=month_range_tags(other, other)).passed
    assert open_alerts() == 1
    warehouse.sql(f"UPDATE clean.order_lines SET amount = quantity * unit_price WHERE line_id = {FIRST_LINE}")
    assert warehouse.run_check(key).passed
    assert open_alerts() == 0


def test_passing_again_resolves_the_alert(warehouse):
    key = dg.AssetCheckKey(CLEAN, "clean_amount_consistent")
    warehouse.sql(f"UPDATE clean.order_lines SET amount = amount + 1 WHERE line_id = {FIRST_LINE}")
    assert not warehouse.run_check(key).passed
    warehouse.sql(f"UPDATE clean.order_lines SET amount = quantity * unit_price WHERE line_id = {FIRST_LINE}")
    assert warehouse.run_check(key).passed
    with warehouse.engine.connect() as conn:
        assert (
            conn.execute(text("SELECT count(*) FROM ops.alerts WHERE resolved_at IS NULL")).scalar_one() == 0
        )
        assert conn.execute(text("SELECT count(*) FROM ops.alerts")).scalar_one() == 1


def test_every_sql_check_is_covered_here_or_by_the_prediction_tests():
    import re

    from retail_platform.warehouse.sql_files import sql_dir

    files = {path.stem for path in (sql_dir() / "checks").glob("*.sql")}
    prediction_tests = Path(__file__).parents[2] / "predictions" / "test_assets.py"
    covered_there = set(
        re.findall(r'_check\(loaded, "(\w+)"\)', prediction_tests.read_text(encoding="utf-8"))
    )
    assert files == set(CORRUPTIONS) | covered_there
