"""The event-driven platform with the real Dagster daemon: files dropped into the landing folder are loaded
once each (in batch runs, fewer runs than files; the daemon killed and restarted half-way), the marts and charts follow by
themselves in fewer refreshes than files and end equal to a single full rebuild, a renamed copy loads nothing
and the ledger says why; orders written in the shop's database are extracted once.

Short sensor intervals come from the environment (RETAIL_FILE_DROP_INTERVAL_SECONDS and friends); the
instance is Dagster on PostgreSQL in a temporary DAGSTER_HOME (see live.py). About two minutes.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import dagster as dg
import pytest

from retail_platform.definitions import defs
from retail_platform.defs.automation.batch_tags import drops_of, name_of
from retail_platform.defs.checks.history import MART_KEYS
from retail_platform.defs.resources import RetailPathsResource, WarehouseResource
from retail_platform.oltp.connection import apply_shop_schema
from retail_platform.oltp.simulator import ShopSimulator
from retail_platform.sample_data import write_sample
from retail_platform.warehouse.connection import engine_for
from retail_platform_tests.automation.live import LivePlatform
from retail_platform_tests.processes import admin_url_or_skip, wait_for

FILES = 10
LINES = 3_000
TIMEOUT = 420
SETTINGS = {
    "RETAIL_FILE_DROP_INTERVAL_SECONDS": "2",
    "RETAIL_FILE_DROP_SETTLE_SECONDS": "1",
    "RETAIL_REFRESH_INTERVAL_SECONDS": "5",
    "RETAIL_OLTP_SENSOR_INTERVAL_SECONDS": "3",
}
MARTS = [key.path[-1] for key in MART_KEYS]  # the tables a full refresh builds, as the product lists them


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory):
    platform = LivePlatform(admin_url_or_skip(), tmp_path_factory.mktemp("live"))
    try:
        platform.create(SETTINGS)
        platform.start()
        yield platform
    finally:
        platform.teardown()


def _split_by_days(source: Path, folder: Path, parts: int) -> list[Path]:
    """The drop cut into ``parts`` files of whole days, as a shop exporting day ranges would."""
    with source.open(newline="") as stream:
        reader = csv.reader(stream)
        header = next(reader)
        rows = list(reader)
    days = sorted({row[4][:10] for row in rows})
    bounds = [days[len(days) * i // parts] for i in range(1, parts)]
    chunks: list[list[list[str]]] = [[] for _ in range(parts)]
    for row in rows:
        chunks[sum(row[4][:10] >= bound for bound in bounds)].append(row)
    paths = []
    for index, chunk in enumerate(chunks):
        path = folder / f"days_{index:02d}.csv"
        with path.open("w", newline="") as stream:
            writer = csv.writer(stream)
            writer.writerow(header)
            writer.writerows(chunk)
        paths.append(path)
    return paths


def _runs(live: LivePlatform, **filters) -> list[dg.RunRecord]:
    return list(live.instance().get_run_records(filters=dg.RunsFilter(**filters)))


def _marts(live: LivePlatform) -> dict[str, list[tuple]]:
    return {name: live.query(f"SELECT * FROM marts.{name} ORDER BY 1, 2") for name in MARTS}


def test_dropped_files_load_once_and_the_marts_follow(live: LivePlatform, tmp_path: Path):
    staging = tmp_path / "staging"
    staging.mkdir()
    write_sample(tmp_path / "sample.csv", LINES, seed=31)
    parts = _split_by_days(tmp_path / "sample.csv", staging, FILES)
    assert sum(1 for path in parts for _ in path.open()) - FILES == LINES
    started = time.time()
    for index, part in enumerate(parts):
        if index % 2:  # half the producers write in place...
            part.replace(live.landing / part.name)
        else:  # ...the other half under a temporary name, then rename
            temporary = live.landing / f"{part.name}.part"
            part.replace(temporary)
            temporary.rename(live.landing / part.name)

    def loaded() -> int:
        return live.scalar("SELECT count(*) FROM raw.file_loads WHERE status = 'loaded'")

    # Kill the daemon (no goodbye) once a few files are in, and start a new one.
    wait_for("the first loads", lambda: loaded() >= 3, TIMEOUT, 1, live.diagnose)
    live.restart_daemon()
    wait_for(f"{FILES} loaded files", lambda: loaded() == FILES, TIMEOUT, 2, live.diagnose)

    ledger = live.query(
        "SELECT file_name, status, lines_read, lines_loaded FROM raw.file_loads ORDER BY load_id"
    )
    assert sorted(row[0] for row in ledger) == [part.name for part in parts]
    assert all(row[1] == "loaded" and row[2] == row[3] for row in ledger), ledger
    assert sum(row[3] for row in ledger) == LINES == live.scalar("SELECT count(*) FROM raw.transactions")
    assert not any(live.landing.iterdir())
    # A file's lines are visible when its load commits; its run ends a moment later (archive move, metadata).
    load_runs = wait_for(
        "every load run to finish",
        lambda: (
            runs
            if (runs := _runs(live, job_name="load_file_job"))
            and all(run.dagster_run.is_finished for run in runs)
            else None
        ),
        TIMEOUT,
        1,
        live.diagnose,
    )
    # Every file had a run. The daemon was killed without warning, so a run in flight at that moment may end
    # up failed after its file's load had committed (then its retry finds the content already loaded): what
    # must hold is that no file has two successful loads, and the ledger above shows each file loaded once.
    # Files are loaded in batches (one run per sensor tick), each file tagged on its run.
    assert {name_of(d) for run in load_runs for d in drops_of(run.dagster_run.tags)} == {
        p.name for p in parts
    }
    successes = [
        name_of(drop)
        for run in load_runs
        if run.dagster_run.status == dg.DagsterRunStatus.SUCCESS
        for drop in drops_of(run.dagster_run.tags)
    ]
    assert len(successes) == len(set(successes))
    assert len(load_runs) < FILES, f"{len(load_runs)} load runs for {FILES} files"

    # The downstream refresh follows by itself, after the loads.
    # (a run that monitoring marked failed after the kill may carry no end time: its last update stands in)
    last_load = max(run.end_time or run.update_timestamp.timestamp() for run in load_runs)

    def refreshed_after_last_load() -> bool:
        runs = _runs(live, tags={"retail/trigger": "downstream_refresh"})
        return any(
            run.dagster_run.status == dg.DagsterRunStatus.SUCCESS
            and run.start_time
            and run.start_time > last_load
            for run in runs
        )

    wait_for("a downstream refresh after the last load", refreshed_after_last_load, TIMEOUT, 2, live.diagnose)
    wait_for(
        "no refresh in progress",
        lambda: (
            not _runs(
                live,
                tags={"retail/trigger": "downstream_refresh"},
                statuses=[
                    dg.DagsterRunStatus.QUEUED,
                    dg.DagsterRunStatus.STARTING,
                    dg.DagsterRunStatus.STARTED,
                ],
            )
        ),
        TIMEOUT,
        2,
        live.diagnose,
    )
    refreshes = _runs(live, tags={"retail/trigger": "downstream_refresh"})
    assert 1 <= len(refreshes) < FILES, f"{len(refreshes)} downstream refreshes for {FILES} files"
    assert live.scalar("SELECT count(*) FROM clean.order_lines") == LINES
    charts = list((live.root / "retail_home" / "charts").glob("*.png"))
    assert len(charts) >= 7 and all(chart.stat().st_mtime > started for chart in charts)

    # The marts equal one full rebuild from everything loaded.
    automated = _marts(live)
    rebuilt = defs.resolve_job_def("refresh_marts_job").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        resources={
            "warehouse": WarehouseResource(url=live.db_url("warehouse")),
            "retail_paths": RetailPathsResource(home=str(live.root / "retail_home")),
        },
    )
    assert rebuilt.success
    engine_for(live.db_url("warehouse")).dispose()
    assert _marts(live) == automated

    # An already-loaded file dropped again under a new name: its own run, 0 lines, and the ledger says why.
    archived = live.root / "retail_home" / "archive" / parts[0].name
    (live.landing / "resent.csv").write_bytes(archived.read_bytes())
    wait_for(
        "the ledger row of the renamed copy",
        lambda: live.query(
            "SELECT status, lines_loaded, error FROM raw.file_loads WHERE file_name = 'resent.csv'"
        ),
        TIMEOUT,
        2,
        live.diagnose,
    )
    status, lines_loaded, error = live.query(
        "SELECT status, lines_loaded, error FROM raw.file_loads WHERE file_name = 'resent.csv'"
    )[0]
    assert (status, lines_loaded) == ("duplicate", 0) and parts[0].name in error
    assert live.scalar("SELECT count(*) FROM raw.transactions") == LINES


def test_orders_written_in_the_shop_are_extracted_once(live: LivePlatform):
    shop_url = live.db_url("shop")
    apply_shop_schema(engine_for(shop_url))
    placed = ShopSimulator(shop_url, seed=41).place_orders(40)
    engine_for(shop_url).dispose()
    before = live.scalar("SELECT count(*) FROM raw.transactions")

    def extracted() -> bool:
        return live.scalar("SELECT count(*) FROM raw.shop_orders") == placed.lines

    def diagnose() -> str:
        ledger = live.query(
            "SELECT load_id, file_name, file_format, status, lines_read, lines_loaded FROM raw.file_loads"
        )
        counts = live.query(
            "SELECT count(*), count(*) FILTER (WHERE source_export = 'shop.order_lines') FROM raw.transactions"
        )
        return f"ledger: {ledger}\nraw lines (all, from the shop): {counts}\n{live.diagnose()}"

    wait_for("the shop extract", extracted, TIMEOUT, 2, diagnose)
    # the lines are visible when the load commits; the run itself finishes a moment later (metadata, watermark)
    runs = wait_for(
        "the extract run to finish",
        lambda: [run for run in _runs(live, job_name="shop_extract_job") if run.dagster_run.is_finished],
        TIMEOUT,
        1,
        diagnose,
    )
    assert [run.dagster_run.status for run in runs] == [dg.DagsterRunStatus.SUCCESS]
    assert live.scalar("SELECT count(*) FROM raw.transactions") == before + placed.lines
    wait_for(
        "the refresh after the extract",
        lambda: live.scalar("SELECT count(*) FROM clean.order_lines") == before + placed.lines,
        TIMEOUT,
        2,
        live.diagnose,
    )
    # Nothing new in the shop: no further extract is requested.
    time.sleep(8)
    assert len(_runs(live, job_name="shop_extract_job")) == 1
