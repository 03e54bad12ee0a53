"""``retail-platform``: the product's command line.

retail-platform run        prepare the warehouse, load the landing folder, build everything, summarize
retail-platform ui         the Dagster UI (webserver and daemon) on the same warehouse and instance
retail-platform generate   write a sample drop in the real data's shape
retail-platform migrate    apply pending warehouse migrations
retail-platform stop       stop the embedded PostgreSQL server
retail-platform bench      benchmark the load and the whole graph against a bare COPY
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

SAMPLE_ROWS = 100_000
SAMPLE_SEED = 20091201


def _prepare_environment(args: argparse.Namespace) -> tuple[str, bool]:
    """Resolve folders and the warehouse once, and export them so every child process agrees.

    Returns the warehouse URL and whether this call started the embedded server.
    """
    from retail_platform.settings import retail_paths
    from retail_platform.warehouse.connection import resolve_warehouse_url
    from retail_platform.warehouse.embedded import is_running

    if getattr(args, "home", None):
        os.environ["RETAIL_HOME"] = str(Path(args.home).resolve())
    paths = retail_paths().ensure()
    os.environ["RETAIL_HOME"] = str(paths.home)
    os.environ.setdefault("DAGSTER_HOME", str(paths.dagster_home))
    _write_local_instance_config(Path(os.environ["DAGSTER_HOME"]))
    started_here = False
    if not os.environ.get("RETAIL_WAREHOUSE_URL"):
        started_here = not is_running(paths.pgdata)
    url = resolve_warehouse_url(paths=paths)
    os.environ["RETAIL_WAREHOUSE_URL"] = url
    return url, started_here


LOCAL_INSTANCE_MARKER = "# Written by retail-platform"
LOCAL_INSTANCE_CONFIG = f"""{LOCAL_INSTANCE_MARKER}: the LOCAL Dagster instance of `retail-platform run` / `ui`.
# Run history in SQLite beside this file, runs as local processes. The deployed instance (PostgreSQL storage,
# Docker run launcher) is dagster.yaml at the project root; it is never read by local runs.
# Delete the first line to keep your own edits: the file is then left alone.
telemetry:
  enabled: false
run_monitoring:
  # a run whose process died (ui killed mid-load) is marked failed instead of holding the load pool forever
  enabled: true
  start_timeout_seconds: 180
  max_resume_run_attempts: 0
concurrency:
  runs:
    max_concurrent_runs: 2
  pools:
    # As deployed: a run needing a busy pool waits in the queue; one load into the warehouse at a time.
    granularity: run
    default_limit: 1
"""
_LEGACY_LOCAL_INSTANCE_CONFIG = "telemetry:\n  enabled: false\n"


def _write_local_instance_config(dagster_home: Path) -> None:
    """A local Dagster instance for ``run`` and ``ui``: run history under RETAIL_HOME, telemetry off, the same
    concurrency rules as the deployed instance. A file written by an earlier version is refreshed; a file
    someone wrote by hand (no marker line) is kept."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    config = dagster_home / "dagster.yaml"
    current = config.read_text(encoding="utf-8") if config.exists() else None
    generated = (
        current is None
        or current == _LEGACY_LOCAL_INSTANCE_CONFIG
        or current.startswith(LOCAL_INSTANCE_MARKER)
    )
    if generated and current != LOCAL_INSTANCE_CONFIG:
        config.write_text(LOCAL_INSTANCE_CONFIG, encoding="utf-8")


def cmd_generate(args: argparse.Namespace) -> int:
    from retail_platform.sample_data import write_sample

    started = time.perf_counter()
    lines = write_sample(Path(args.out), args.rows, args.seed, spelling=args.spelling)
    print(f"Wrote {lines:,} lines to {args.out} in {time.perf_counter() - started:.1f} s")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from retail_platform.warehouse.connection import engine_for, redact
    from retail_platform.warehouse.migrations import migrate

    url, _ = _prepare_environment(args)
    applied = migrate(engine_for(url))
    print(
        f"{redact(url)}: applied {len(applied)} migration(s): {', '.join(m.path.name for m in applied) or '-'}"
    )
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    from retail_platform.settings import retail_paths
    from retail_platform.warehouse.embedded import stop_embedded

    paths = retail_paths(args.home)
    print(
        "Embedded PostgreSQL stopped."
        if stop_embedded(paths.pgdata)
        else "Embedded PostgreSQL was not running."
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    import dagster as dg

    from retail_platform.definitions import defs
    from retail_platform.reporting import print_run_summary
    from retail_platform.sample_data import write_sample
    from retail_platform.settings import retail_paths
    from retail_platform.warehouse.connection import engine_for, redact
    from retail_platform.warehouse.embedded import stop_embedded
    from retail_platform.warehouse.migrations import migrate

    started = time.perf_counter()
    url, started_here = _prepare_environment(args)
    paths = retail_paths()
    embedded = "host=/" in url or "host=%2F" in url
    print(
        f"Warehouse: embedded PostgreSQL, data in {paths.pgdata}" if embedded else f"Warehouse: {redact(url)}"
    )
    engine = engine_for(url)
    migrate(engine)
    from retail_platform.ingestion.landing import ready_files

    if not ready_files(paths.landing) and _never_loaded(engine):
        sample = paths.landing / "sample_online_retail.csv"
        lines = write_sample(sample, args.sample_rows, SAMPLE_SEED)
        print(f"Landing folder was empty: wrote a sample drop of {lines:,} lines to {sample}")
    print(
        f"Loading {len(ready_files(paths.landing))} file(s) from {paths.landing} and building every asset..."
    )
    try:
        with dg.DagsterInstance.get() as instance:
            result = defs.resolve_job_def("full_refresh_job").execute_in_process(
                instance=instance,
                raise_on_error=False,
                # progress and warnings on the console, not every engine event (they are in the UI)
                run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
            )
        ok = print_run_summary(engine, result, paths, time.perf_counter() - started)
    finally:
        if started_here and not args.keep_server:
            engine.dispose()
            stop_embedded(paths.pgdata)
    return 0 if ok else 1


def _never_loaded(engine) -> bool:
    from sqlalchemy import text

    with engine.connect() as conn:
        return conn.execute(text("SELECT NOT EXISTS (SELECT 1 FROM raw.file_loads)")).scalar_one()


def cmd_health(args: argparse.Namespace) -> int:
    import json

    import dagster as dg

    from retail_platform.definitions import defs
    from retail_platform.monitoring.health import collect_health, format_report
    from retail_platform.warehouse.connection import engine_for
    from retail_platform.warehouse.migrations import migrate

    url, _ = _prepare_environment(args)
    engine = engine_for(url)
    migrate(engine)
    with dg.DagsterInstance.get() as instance:
        report = collect_health(defs, instance, engine)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2, default=str))
    else:
        print(format_report(report))
    return 0 if report.ok(strict=args.strict) else 1


def cmd_ui(args: argparse.Namespace) -> int:
    from retail_platform.warehouse.connection import engine_for, redact
    from retail_platform.warehouse.migrations import migrate

    url, _ = _prepare_environment(args)
    migrate(engine_for(url))
    print(f"Warehouse: {redact(url)}; Dagster home: {os.environ['DAGSTER_HOME']}")
    print(f"Open http://{args.host}:{args.port} (Ctrl-C stops the UI; 'retail-platform stop' the database)")
    command = [
        sys.executable,
        "-m",
        "dagster",
        "dev",
        "-m",
        "retail_platform.definitions",
        "-h",
        args.host,
        "-p",
        str(args.port),
    ]
    try:
        return subprocess.call(command)
    except KeyboardInterrupt:
        return 0


def cmd_simulate_shop(args: argparse.Namespace) -> int:
    """Write orders into the shop's OLTP database, as the web application would (``--follow``: keep going)."""
    from datetime import datetime

    from retail_platform.oltp.connection import apply_shop_schema, ensure_database, resolve_shop_source
    from retail_platform.oltp.simulator import ShopSimulator
    from retail_platform.warehouse.connection import engine_for

    warehouse_url, _ = _prepare_environment(args)
    source = resolve_shop_source(args.oltp_url, warehouse_url)
    if ensure_database(source.url):
        print(f"Created the shop database {source.describe()}")
    applied = apply_shop_schema(engine_for(source.url))
    if applied:
        print(f"Applied the shop schema: {', '.join(applied)}")
    start = datetime.fromisoformat(args.start) if args.start else None
    simulator = ShopSimulator(source.url, seed=args.seed, cancel_share=args.cancel_share, start=start)
    print(f"Shop database: {source.describe()} (seed {simulator.seed})")
    if args.orders:
        stats = simulator.place_orders(args.orders)
        print(f"Wrote {stats.summary()} in {stats.seconds:.1f} s")
    if args.follow:
        print(f"Writing about {args.rate:g} order(s) per second until Ctrl-C...")
        stats = simulator.follow(
            args.rate, report=lambda total: print(f"  {total.summary()} in {total.seconds:.0f} s", flush=True)
        )
        print(f"Stopped: wrote {stats.summary()} in {stats.seconds:.0f} s")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    """Benchmark the load and the whole graph against a bare COPY (see retail_platform/bench.py)."""
    from retail_platform import bench
    from retail_platform.settings import retail_paths
    from retail_platform.warehouse.connection import redact
    from retail_platform.warehouse.embedded import stop_embedded

    url, started_here = _prepare_environment(args)
    print(f"Warehouse server: {redact(url)} (scratch databases, dropped afterwards)", file=sys.stderr)
    try:
        return bench.main(
            url,
            rows=args.rows,
            repeat=args.repeat,
            seed=args.seed,
            as_json=args.json,
            workdir=Path(args.workdir) if args.workdir else None,
        )
    finally:
        if started_here and not args.keep_server:
            stop_embedded(retail_paths().pgdata)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="retail-platform", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="load the landing folder and build every table and chart")
    run.add_argument("--home", help="RETAIL_HOME (default: $RETAIL_HOME or ./.retail_platform)")
    run.add_argument("--keep-server", action="store_true", help="leave the embedded PostgreSQL running")
    run.add_argument(
        "--sample-rows",
        type=int,
        default=SAMPLE_ROWS,
        help="size of the sample drop written when nothing was ever loaded (default %(default)s)",
    )
    run.set_defaults(func=cmd_run)

    ui = commands.add_parser("ui", help="start the Dagster UI and daemon on the same warehouse")
    ui.add_argument("--home")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(func=cmd_ui)

    health = commands.add_parser("health", help="asset health: materializations, checks, freshness, alerts")
    health.add_argument("--home")
    health.add_argument("--json", action="store_true", help="machine-readable output")
    health.add_argument("--strict", action="store_true", help="failed WARN checks count as failing too")
    health.set_defaults(func=cmd_health)

    generate = commands.add_parser("generate", help="write sample data in the real data's shape")
    generate.add_argument("--rows", type=int, default=SAMPLE_ROWS)
    generate.add_argument("--seed", type=int, default=SAMPLE_SEED)
    generate.add_argument("--out", required=True, help="file to write: .csv, .csv.gz, .parquet or .xlsx")
    generate.add_argument(
        "--spelling",
        default="uci2",
        choices=["uci2", "uci1", "snake"],
        help="header spelling: Online Retail II, Online Retail I, or canonical names",
    )
    generate.set_defaults(func=cmd_generate)

    migrate = commands.add_parser("migrate", help="apply pending warehouse migrations")
    migrate.add_argument("--home")
    migrate.set_defaults(func=cmd_migrate)

    stop = commands.add_parser("stop", help="stop the embedded PostgreSQL server")
    stop.add_argument("--home")
    stop.set_defaults(func=cmd_stop)

    shop = commands.add_parser(
        "simulate-shop", help="write realistic orders and cancellations into the shop's OLTP database"
    )
    shop.add_argument("--home")
    shop.add_argument("--orders", type=int, default=0, help="orders to write now (sales and cancellations)")
    shop.add_argument(
        "--follow", action="store_true", help="then keep writing orders, as a live shop, until Ctrl-C"
    )
    shop.add_argument(
        "--rate", type=float, default=1.0, help="orders per second with --follow (default %(default)s)"
    )
    shop.add_argument("--seed", type=int, help="random seed (default: a new one each time)")
    shop.add_argument(
        "--cancel-share",
        type=float,
        default=0.16,
        help="share of orders that cancel an earlier sale (default %(default)s)",
    )
    shop.add_argument(
        "--start",
        help="simulated shop clock from this time (e.g. '2010-12-10 07:30'); default: orders placed now",
    )
    shop.add_argument(
        "--oltp-url", help="the shop's database (default: $RETAIL_OLTP_URL, else <warehouse db>_shop)"
    )
    shop.set_defaults(func=cmd_simulate_shop)

    bench = commands.add_parser(
        "bench", help="benchmark: load and whole graph on N generated lines, against a bare COPY"
    )
    bench.add_argument("--home")
    bench.add_argument("--rows", type=int, default=1_067_371, help="lines to generate (default %(default)s)")
    bench.add_argument(
        "--repeat", type=int, default=3, help="repeats; times are medians (default %(default)s)"
    )
    bench.add_argument("--seed", type=int, default=SAMPLE_SEED)
    bench.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    bench.add_argument("--workdir", help="where the generated file goes (default: a temporary folder)")
    bench.add_argument("--keep-server", action="store_true", help="leave the embedded PostgreSQL running")
    bench.set_defaults(func=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
