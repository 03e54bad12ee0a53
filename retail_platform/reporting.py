"""The summary ``retail-platform run`` prints: what was loaded, what the marts say, where to look next."""

from __future__ import annotations

from sqlalchemy import Engine, text

from retail_platform.ingestion.summary import run_totals
from retail_platform.settings import RetailPaths
from retail_platform.warehouse.sql_files import read_sql


def _money(value) -> str:
    return "-" if value is None else f"£{float(value):,.2f}"


def print_run_summary(engine: Engine, result, paths: RetailPaths, seconds: float) -> bool:
    """Print the summary; True when the run succeeded, no file was rejected and no ERROR check failed."""
    run_id = result.run_id
    with engine.connect() as conn:
        files = conn.execute(text(read_sql("queries/run_summary_files.sql")), {"run_id": run_id}).all()
        warehouse = conn.execute(text(read_sql("queries/run_summary_warehouse.sql"))).one()
        segments = conn.execute(
            text(
                "SELECT segment, customers, share_of_customers FROM marts.rfm_segments ORDER BY customers DESC"
            )
        ).all()

    print()
    print("=" * 78)
    print(f"Run {run_id[:8]}: {'SUCCEEDED' if result.success else 'FAILED'} in {seconds:.1f} s")
    print("-" * 78)
    print(f"Files this run: {len(files)}")
    for row in files:
        print(
            f"  {row.file_name[:38]:<38} {row.status:<9} read {row.lines_read:>9,}  loaded {row.lines_loaded:>9,}"
            f"  present {row.lines_already_present:>9,}  rejected {row.lines_rejected:>7,}"
        )
        if row.status in ("rejected", "failed") or (row.error and row.status == "loaded"):
            print(f"      -> {row.error[:300]}")  # why, or its first rejected line (row, column)
    if files:
        total = run_totals(files)
        print(
            f"  {'total':<38} {'':<9} read {total['lines_read']:>9,}  loaded {total['lines_loaded']:>9,}"
            f"  present {total['lines_already_present']:>9,}  rejected {total['lines_rejected']:>7,}"
        )
    print(f"Warehouse: {warehouse.lines:,} lines in raw.transactions")
    if warehouse.months:
        print(
            f"Months covered: {warehouse.months} ({warehouse.first_month:%b %Y} to {warehouse.last_month:%b %Y});"
            f" net sales {_money(warehouse.net_sales)}"
        )
    if segments:
        print("RFM segments: " + ", ".join(f"{s.segment} {s.customers:,}" for s in segments if s.customers))
    failed_checks = _failed_checks(result)
    checks_run = sum(1 for event in result.all_events if event.event_type_value == "ASSET_CHECK_EVALUATION")
    print(f"Checks: {checks_run} evaluated, {len(failed_checks)} failed")
    for name, severity in failed_checks:
        print(f"  FAILED [{severity}] {name}")
    charts = sorted(paths.charts.glob("*.png"))
    print(f"Charts: {len(charts)} PNG files in {paths.charts}")
    if not result.success:
        failed = [event.step_key for event in result.all_events if event.event_type_value == "STEP_FAILURE"]
        print(f"Failed steps: {', '.join(failed)}")
    print(f"Rejected files and their reports: {paths.rejected}")
    print("Open the Dagster UI on this warehouse: retail-platform ui   (then http://127.0.0.1:3000)")
    print("=" * 78)
    rejected = [row for row in files if row.status in ("rejected", "failed")]
    check_errors = [name for name, severity in failed_checks if severity == "ERROR"]
    return bool(result.success) and not rejected and not check_errors


def _failed_checks(result) -> list[tuple[str, str]]:
    failed = []
    for event in result.all_events:
        if event.event_type_value != "ASSET_CHECK_EVALUATION":
            continue
        evaluation = event.event_specific_data
        if not evaluation.passed:
            key = evaluation.asset_check_key
            failed.append((f"{key.asset_key.to_user_string()}:{key.name}", evaluation.severity.value))
    return failed
