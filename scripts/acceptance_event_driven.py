"""Acceptance of the event-driven platform on the real data (slow: about ten minutes on two cores).

With ``retail-platform ui`` running on a fresh RETAIL_HOME (embedded PostgreSQL, local Dagster instance, the
product's default sensor intervals):

1. the real 2009-2010 file is split into 50 files by day ranges and all 50 are dropped at once;
2. half-way (25 files in the ledger) ``retail-platform ui`` (webserver, daemon, code server) is stopped and
   started again;
3. it waits until all 50 are loaded and the downstream refresh after the last load has finished, and reports
   the time, the number of load and downstream runs, the ledger totals; it checks that every line is loaded
   once and that the marts equal those of a single full refresh of the unsplit file (a separate database);
4. an already-loaded file is dropped again under a new name: 0 lines, and the ledger says why;
5. ``retail-platform simulate-shop --orders 1000``: the extract picks them up once; a second extract with no
   new orders loads nothing.

    .venv/bin/python scripts/acceptance_event_driven.py [--home /tmp/acceptance] [--files 50]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
REAL_DATA = PROJECT.parent / "shared" / "data" / "online_retail_II_2009-2010.csv.gz"


def mart_tables() -> list[str]:
    """The tables a full refresh builds, as the product lists them (imported late, like the other product
    modules here)."""
    from retail_platform.defs.checks.history import MART_KEYS

    return [key.path[-1] for key in MART_KEYS]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def wait_for(what: str, probe, timeout: float, interval: float = 2.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = probe()
            if value:
                return value
        except Exception:
            pass
        time.sleep(interval)
    raise TimeoutError(f"timed out waiting for {what}")


def split_by_days(source: Path, folder: Path, parts: int) -> list[Path]:
    with gzip.open(source, "rt", encoding="utf-8", newline="") as stream:
        reader = csv.reader(stream)
        header = next(reader)
        rows = list(reader)
    day = lambda row: row[4][:10]  # noqa: E731 - ISO dates in the CSV copy
    days = sorted({day(row) for row in rows})
    bounds = [days[len(days) * i // parts] for i in range(1, parts)]
    chunks: list[list[list[str]]] = [[] for _ in range(parts)]
    for row in rows:
        chunks[sum(day(row) >= bound for bound in bounds)].append(row)
    return [
        write_csv(
            folder / f"online_retail_{index + 1:02d}_{day(chunk[0])}_{day(chunk[-1])}.csv", header, chunk
        )
        for index, chunk in enumerate(chunks)
    ]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)
    return path


class Ui:
    def __init__(self, home: Path, port: int, env: dict[str, str]) -> None:
        self.home, self.port, self.env = home, port, env
        self.process: subprocess.Popen | None = None
        self.log = home.parent / f"{home.name}_ui.log"

    def start(self) -> None:
        with self.log.open("a") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "retail_platform.cli",
                    "ui",
                    "--home",
                    str(self.home),
                    "--port",
                    str(self.port),
                ],
                env=self.env,
                cwd=PROJECT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for(
            "the webserver",
            lambda: urllib.request.urlopen(f"http://127.0.0.1:{self.port}/server_info", timeout=3),
            300,
        )

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def scalar(url: str, sql: str, params=()):
    """The first value of ``sql``'s first row, on a connection of its own."""
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchone()[0]


def start_ui(home: Path, port: int, env: dict[str, str], paths) -> tuple[Ui, str]:
    """``retail-platform ui`` started on ``home``, and the URL of the warehouse it started, once migrated."""
    from retail_platform.warehouse.connection import resolve_warehouse_url

    ui = Ui(home, port, env)
    ui.start()
    url = resolve_warehouse_url(None, paths)  # the server `ui` started
    migrated = "SELECT to_regclass('raw.file_loads') IS NOT NULL"
    wait_for("the warehouse migrations", lambda: scalar(url, migrated), 180)
    return ui, url


def simulate_shop(home: Path, env: dict[str, str], url: str, orders: int) -> str:
    """``retail-platform simulate-shop --orders N`` on ``home``'s shop database: what it printed."""
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "retail_platform.cli",
            "simulate-shop",
            "--orders",
            str(orders),
            "--home",
            str(home),
        ],
        env={**env, "RETAIL_WAREHOUSE_URL": url},
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return completed.stdout


def script_parser(home: str, port: int) -> argparse.ArgumentParser:
    """The options every live-UI script takes: its RETAIL_HOME (wiped) and the webserver's port."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", default=home)
    parser.add_argument("--port", type=int, default=port)
    return parser


def fresh_home(home: Path):
    """``(env, paths, staging)``: an empty RETAIL_HOME (its parent folder wiped) made this process's, with no
    other RETAIL_/DAGSTER_ setting left; the environment for the ``ui`` child, the home's folders (created) and
    an empty staging folder beside the home."""
    shutil.rmtree(home.parent, ignore_errors=True)
    home.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RETAIL_", "DAGSTER_"))}
    env["RETAIL_HOME"] = str(home)
    for key in [k for k in os.environ if k.startswith("RETAIL_")]:
        del os.environ[key]
    os.environ.update({"RETAIL_HOME": str(home), "DAGSTER_HOME": str(home / "dagster")})
    staging = home.parent / "staging"
    staging.mkdir()
    from retail_platform.settings import retail_paths  # after the environment is this home's

    return env, retail_paths(home).ensure(), staging


def main() -> int:
    parser = script_parser("/tmp/rp_acceptance/home", 3377)
    parser.add_argument("--files", type=int, default=50)
    args = parser.parse_args()
    env, paths, staging = fresh_home(home := Path(args.home))

    import dagster as dg
    import psycopg
    from sqlalchemy.engine import make_url

    from retail_platform.settings import retail_paths
    from retail_platform.warehouse.embedded import stop_embedded

    parts = split_by_days(REAL_DATA, staging, args.files)
    total_lines = sum(sum(1 for _ in path.open(encoding="utf-8")) - 1 for path in parts)
    log(f"split {REAL_DATA.name} into {len(parts)} files, {total_lines:,} lines")

    ui, url = start_ui(home, args.port, env, paths)
    os.environ["RETAIL_WAREHOUSE_URL"] = url

    dropped = time.time()
    for part in parts:  # all at once: renames within one file system
        part.rename(paths.landing / part.name)
    log(f"dropped {len(parts)} files into {paths.landing}")

    loaded = lambda: scalar(url, "SELECT count(*) FROM raw.file_loads WHERE status = 'loaded'")  # noqa: E731
    wait_for("half of the files", lambda: loaded() >= len(parts) // 2, 1800)
    log(f"{loaded()} files loaded after {time.time() - dropped:.0f} s: restarting retail-platform ui")
    ui.stop()
    log(f"stopped ({loaded()} loaded); starting again")
    ui.start()
    wait_for("every file", lambda: loaded() == len(parts) and not any(paths.landing.iterdir()), 3600)
    all_loaded = time.time() - dropped
    log(f"all {len(parts)} files loaded {all_loaded:.0f} s after the drop")

    with dg.DagsterInstance.get() as instance:
        load_runs = instance.get_run_records(dg.RunsFilter(job_name="load_file_job"))
        last_load = max(r.end_time for r in load_runs if r.end_time)

        def refreshed():
            runs = instance.get_run_records(dg.RunsFilter(tags={"retail/trigger": "downstream_refresh"}))
            done = [r for r in runs if r.start_time and r.start_time > last_load and r.end_time]
            busy = [r for r in runs if not r.end_time]
            return done and not busy and runs

        refreshes = wait_for("the refresh after the last load", refreshed, 900)
        settled = time.time() - dropped
        statuses: dict[str, int] = {}
        for record in load_runs:
            statuses[record.dagster_run.status.value] = statuses.get(record.dagster_run.status.value, 0) + 1
    with psycopg.connect(url) as conn:
        ledger = conn.execute(
            "SELECT count(*), count(DISTINCT file_name), sum(lines_read), sum(lines_loaded),"
            " sum(lines_already_present), sum(lines_rejected) FROM raw.file_loads"
        ).fetchone()
        raw_lines = conn.execute("SELECT count(*) FROM raw.transactions").fetchone()[0]
        automated = {
            m: conn.execute(f"SELECT * FROM marts.{m} ORDER BY 1, 2").fetchall() for m in mart_tables()
        }
    charts = sorted(paths.charts.glob("*.png"))
    fresh_charts = [c for c in charts if c.stat().st_mtime > last_load]
    log(
        f"RESULT files: ledger rows {ledger[0]}, distinct files {ledger[1]}, read {ledger[2]:,}, loaded {ledger[3]:,}, "
        f"already present {ledger[4]:,}, rejected {ledger[5]:,}; raw.transactions {raw_lines:,} "
        f"(lines in the files: {total_lines:,})"
    )
    log(f"RESULT load runs: {len(load_runs)} ({statuses}); downstream refreshes: {len(refreshes)}")
    log(
        f"RESULT time: all loaded {all_loaded:.0f} s after the drop, marts and charts refreshed {settled:.0f} s"
    )
    log(f"RESULT charts: {len(fresh_charts)} of {len(charts)} PNGs rewritten after the last load")

    # 4. an already-loaded file under a new name
    first = paths.archive / parts[0].name
    (paths.landing / "resent_under_a_new_name.csv").write_bytes(first.read_bytes())
    row = wait_for(
        "the renamed copy's ledger row",
        lambda: (
            psycopg.connect(url)
            .execute(
                "SELECT status, lines_read, lines_loaded, error FROM raw.file_loads WHERE file_name = %s",
                ("resent_under_a_new_name.csv",),
            )
            .fetchone()
        ),
        300,
    )
    log(f"RESULT renamed copy: status {row[0]}, read {row[1]:,}, loaded {row[2]}; error: {row[3]}")

    # 5. the shop
    started = time.time()
    printed = simulate_shop(home, env, url, 1000)
    log("simulate-shop: " + printed.strip().replace("\n", " | "))
    shop_db = make_url(url).database + "_shop"
    shop_url = url.replace(f"/{make_url(url).database}?", f"/{shop_db}?")
    shop_lines = psycopg.connect(shop_url).execute("SELECT count(*) FROM shop.order_lines").fetchone()[0]
    wait_for(
        "the shop extract", lambda: scalar(url, "SELECT count(*) FROM raw.shop_orders") == shop_lines, 600
    )
    log(
        f"RESULT shop: {shop_lines:,} lines extracted {time.time() - started:.0f} s after simulate-shop started"
    )
    time.sleep(45)  # sensor ticks with nothing new
    with dg.DagsterInstance.get() as instance:
        extracts = instance.get_run_records(dg.RunsFilter(job_name="shop_extract_job"))
        from retail_platform.definitions import defs

        ledger_before = scalar(url, "SELECT count(*) FROM raw.file_loads")
        second = defs.resolve_job_def("shop_extract_job").execute_in_process(instance=instance)
        metadata = second.asset_materializations_for_node("raw__shop_orders")[0].metadata
    log(
        f"RESULT shop: extract runs by the sensor {len(extracts)}; lines in raw.shop_orders "
        f"{scalar(url, 'SELECT count(*) FROM raw.shop_orders'):,}; second extract: status {metadata['status'].value}, "
        f"loaded {metadata['lines_loaded'].value}, ledger rows {ledger_before} -> {scalar(url, 'SELECT count(*) FROM raw.file_loads')}"
    )
    ui.stop()

    # 3b. the marts equal a single full refresh of the unsplit file, in a database of its own
    from retail_platform.defs.resources import RetailPathsResource, WarehouseResource
    from retail_platform.warehouse.connection import engine_for

    reference = make_url(url).database + "_reference"
    admin = url.replace(f"/{make_url(url).database}?", "/postgres?")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{reference}"')
        conn.execute(f'CREATE DATABASE "{reference}"')
    reference_url = url.replace(f"/{make_url(url).database}?", f"/{reference}?")
    reference_home = home.parent / "reference_home"
    reference_paths = retail_paths(reference_home).ensure()
    shutil.copy(REAL_DATA, reference_paths.landing / REAL_DATA.name)
    os.environ["RETAIL_WAREHOUSE_URL"] = reference_url
    result = defs.resolve_job_def("full_refresh_job").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        resources={
            "warehouse": WarehouseResource(url=reference_url),
            "retail_paths": RetailPathsResource(home=str(reference_home)),
        },
    )
    with psycopg.connect(reference_url) as conn:
        single = {m: conn.execute(f"SELECT * FROM marts.{m} ORDER BY 1, 2").fetchall() for m in mart_tables()}
    equal = {m: automated[m] == single[m] for m in mart_tables()}
    log(
        f"RESULT marts equal to a single full refresh of the unsplit file: {equal} (reference run ok: {result.success})"
    )
    engine_for(reference_url).dispose()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{reference}" WITH (FORCE)')
    stop_embedded(paths.pgdata)
    return 0 if all(equal.values()) and raw_lines == total_lines and ledger[3] == total_lines else 1


if __name__ == "__main__":
    sys.exit(main())
