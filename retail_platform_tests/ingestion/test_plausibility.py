"""Issue 13, defects 3 and 11: implausible values are quarantined at load, not fatal downstream.

A single well-formed line dated 9999-12-31 or 1000-01-01, priced 1e99, with customer -5 (or a 200 KB
description, defect 9) sits beside good lines: the good lines load, the bad one is rejected with a reason
naming file, row and column and kept with its text, and the graph downstream still builds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import Engine, text

from retail_platform.ingestion.columns import MAX_FIELD_CHARS, LoadBounds
from retail_platform.ingestion.landing import load_landing
from retail_platform.sample_data import write_sample
from retail_platform.settings import PlausibilitySettings, SettingError, load_settings
from retail_platform_tests.helpers import UCI2_HEADER, line
from retail_platform_tests.ingestion.support import assert_accounting, count, csv_records, write_lines

TOMORROW = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
# (bad field overrides, column named by the reason, words of the reason)
CASES = {
    "date_9999": ({"date": "9999-12-31 23:59:00"}, "invoice_date", "after tomorrow"),
    "date_1000": (
        {"date": "1000-01-01 00:00:00"},
        "invoice_date",
        "before the first plausible date 2000-01-01",
    ),
    "date_1999": ({"date": "1999-12-31 23:59:59"}, "invoice_date", "before the first plausible date"),
    "price_1e99": ({"price": "1e99"}, "unit_price", "beyond the plausible magnitude"),
    "price_negative_huge": ({"price": "-2000000"}, "unit_price", "beyond the plausible magnitude"),
    "quantity_huge": ({"quantity": "5000000"}, "quantity", "beyond the plausible magnitude"),
    "customer_negative": ({"customer": "-5"}, "customer_id", "-5 is not a positive id"),
    "customer_zero": ({"customer": "0.0"}, "customer_id", "0 is not a positive id"),
    "huge_description": (
        {"description": "x" * 200_000},
        "description",
        f"above the limit of {MAX_FIELD_CHARS}",
    ),
}


def _drop(folder: Path, name: str, bad: dict, *, blank_line: bool = False) -> tuple[Path, int]:
    """A generated file of 400 good lines with one bad line inserted as data line 101; its row number."""
    source = folder / "source" / f"{name}.csv"
    write_sample(source, 400, seed=21)
    header, records = csv_records(source)
    records.insert(100, line(invoice="999001", **bad))
    if blank_line:  # defect 9: a blank line sends the file down the csv module's path
        records.insert(200, [])
    return write_lines(folder / "landing" / f"{name}.csv", header, records), 102


@pytest.mark.parametrize("blank_line", [False, True], ids=["arrow_path", "csv_module_path"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_one_implausible_line_is_rejected_the_rest_loads(
    engine: Engine, tmp_path: Path, case: str, blank_line: bool
) -> None:
    bad, column, words = CASES[case]
    path, row = _drop(tmp_path, case, bad, blank_line=blank_line)
    [result] = load_landing(engine, path.parent, tmp_path / "archive", tmp_path / "rejected", files=[path])
    assert result.status == "loaded", result.error
    assert (result.lines_read, result.lines_loaded, result.lines_rejected) == (401, 400, 1)
    with engine.connect() as conn:
        kept = conn.execute(text("SELECT * FROM raw.rejected_lines")).mappings().one()
    assert (kept["file_name"], kept["source_row"], kept["column_name"]) == (path.name, row, column)
    assert words in kept["reason"] and kept["reason"].startswith(f"{column}: ")
    assert kept["raw_text"].startswith("999001,")
    assert count(engine, "raw.transactions", "invoice_no = '999001'") == 0
    assert_accounting(engine)


def test_a_line_dated_tomorrow_loads_the_day_after_does_not(engine: Engine, tmp_path: Path) -> None:
    after = (datetime.now(UTC).date() + timedelta(days=2)).isoformat()
    rows = [line(invoice="1", date=f"{TOMORROW} 23:59:59"), line(invoice="2", date=f"{after} 00:00:00")]
    rows += [line(invoice=str(n)) for n in range(3, 40)]
    path = write_lines(tmp_path / "landing" / "edge.csv", UCI2_HEADER, rows)
    [result] = load_landing(engine, path.parent, tmp_path / "a", tmp_path / "r", files=[path])
    assert (result.lines_loaded, result.lines_rejected) == (38, 1)
    assert count(engine, "raw.transactions", "invoice_no = '1'") == 1
    assert count(engine, "raw.rejected_lines", "source_row = 3 AND column_name = 'invoice_date'") == 1


def test_bounds_are_settings_passed_to_the_load(engine: Engine, tmp_path: Path) -> None:
    settings = load_settings({"RETAIL_FIRST_PLAUSIBLE_DATE": "2009-12-02", "RETAIL_MAX_ABS_UNIT_PRICE": "5"})
    assert settings.plausibility == PlausibilitySettings("2009-12-02", 5.0, 1_000_000, 1)
    with pytest.raises(SettingError, match="RETAIL_FIRST_PLAUSIBLE_DATE"):
        load_settings({"RETAIL_FIRST_PLAUSIBLE_DATE": "soon"})
    assert LoadBounds.at(settings.plausibility).first_date == "2009-12-02 00:00:00"
    rows = [
        line(invoice="1", date="2009-12-01 10:00:00"),
        line(invoice="2", date="2009-12-03 10:00:00", price="6"),
    ]
    rows += [line(invoice=str(n), date="2009-12-03 10:00:00", price="1.5") for n in range(3, 40)]
    path = write_lines(tmp_path / "landing" / "strict.csv", UCI2_HEADER, rows)
    [result] = load_landing(
        engine,
        path.parent,
        tmp_path / "a",
        tmp_path / "r",
        files=[path],
        plausibility=settings.plausibility,
    )
    assert (result.lines_loaded, result.lines_rejected) == (37, 2)
    with engine.connect() as conn:
        columns = conn.execute(
            text("SELECT column_name FROM raw.rejected_lines ORDER BY source_row")
        ).scalars()
        assert list(columns) == ["invoice_date", "unit_price"]


def test_the_graph_builds_beside_implausible_lines(database_url: str, engine: Engine, tmp_path: Path) -> None:
    """Defect 3: one line dated 9999-12-31 (and one 1000-01-01, a price 1e99, customer -5) used to fail the
    blocking clean_dates_plausible and stop every mart; now they are rejected at load and the marts build."""
    from retail_platform.definitions import defs
    from retail_platform_tests.defs.checks.conftest import resources_for

    home = tmp_path / "home"
    landing = home / "landing"
    write_sample(landing / "good.csv", 2_000, seed=5)
    header, records = csv_records(landing / "good.csv")
    for index, bad in enumerate(
        [
            {"date": "9999-12-31 10:00:00"},
            {"date": "1000-01-01 10:00:00"},
            {"price": "1e99"},
            {"customer": "-5"},
        ]
    ):
        records.insert(50 * (index + 1), line(invoice=f"99900{index}", **bad))
    write_lines(landing / "good.csv", header, records)
    result = defs.resolve_job_def("full_refresh_job").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        resources=resources_for(database_url, home),
        raise_on_error=False,
    )
    assert result.success
    failed = [(e.check_name, e.severity) for e in result.get_asset_check_evaluations() if not e.passed]
    assert ("clean_dates_plausible", dg.AssetCheckSeverity.ERROR) not in failed
    materialized = {e.asset_key.to_user_string() for e in result.all_events if e.is_step_materialization}
    assert {"clean/order_lines", "marts/monthly_kpis", "marts/rfm_scores"} <= materialized
    assert count(engine, "raw.rejected_lines") == 4
    with engine.connect() as conn:
        span = conn.execute(
            text("SELECT min(month), max(month), max(net_sales) FROM marts.monthly_kpis")
        ).one()
    assert span[0].year >= 2009 and span[1].year <= 2011 and span[2] < 10**9
