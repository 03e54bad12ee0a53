"""``retail-platform run`` and ``health``: the main job in process, its summary, and asset health."""

from __future__ import annotations

import argparse
import json
import time

SAMPLE_ROWS = 100_000
SAMPLE_SEED = 20091201


def cmd_run(args: argparse.Namespace) -> int:
    """Prepare the warehouse, load the landing folder (a sample drop when nothing was ever loaded), build
    every asset in process, print the summary; non-zero when the run failed or a file was rejected."""
    import dagster as dg

    from retail_platform.cli.environment import is_embedded, prepare
    from retail_platform.definitions import defs
    from retail_platform.defs.partitions import every_month_tags
    from retail_platform.defs.resources import default_resources
    from retail_platform.ingestion.landing import ready_files
    from retail_platform.reporting import print_run_summary
    from retail_platform.sample_data import write_sample
    from retail_platform.warehouse.connection import engine_for, redact
    from retail_platform.warehouse.embedded import stop_embedded
    from retail_platform.warehouse.migrations import migrate

    started = time.perf_counter()
    settings, started_here = prepare(args)
    paths, url = settings.paths, settings.warehouse_url
    print(
        f"Warehouse: embedded PostgreSQL, data in {paths.pgdata}"
        if is_embedded(url)
        else f"Warehouse: {redact(url)}"
    )
    engine = engine_for(url)
    migrate(engine)
    if not ready_files(paths.landing) and _never_loaded(engine):
        sample = paths.landing / "sample_online_retail.csv"
        lines = write_sample(sample, args.sample_rows, SAMPLE_SEED)
        print(f"Landing folder was empty: wrote a sample drop of {lines:,} lines to {sample}")
    print(
        f"Loading {len(ready_files(paths.landing))} file(s) from {paths.landing} and building every asset..."
    )
    try:
        with dg.DagsterInstance.from_config(str(settings.instance_home)) as instance:
            result = defs.resolve_job_def("full_refresh_job").execute_in_process(
                instance=instance,
                resources=default_resources(settings),
                raise_on_error=False,
                # progress and warnings on the console, not every engine event (they are in the UI)
                run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
                tags=every_month_tags(),  # every monthly partition, so the UI shows each month rebuilt
            )
        ok = print_run_summary(engine, result, paths, time.perf_counter() - started)
    finally:
        if started_here and not args.keep_server:
            engine.dispose()
            stop_embedded(paths.pgdata, unless_in_use=True)  # another run may be using it
    return 0 if ok else 1


def _never_loaded(engine) -> bool:
    from sqlalchemy import text

    with engine.connect() as conn:
        return conn.execute(text("SELECT NOT EXISTS (SELECT 1 FROM raw.file_loads)")).scalar_one()


def cmd_health(args: argparse.Namespace) -> int:
    """Each asset's last materialization, freshness and checks, and the open alerts; 1 when anything fails."""
    import dagster as dg

    from retail_platform.cli.environment import prepare
    from retail_platform.definitions import defs
    from retail_platform.monitoring.health import collect_health, format_report
    from retail_platform.warehouse.connection import engine_for
    from retail_platform.warehouse.migrations import migrate

    settings, _ = prepare(args)
    engine = engine_for(settings.warehouse_url)
    migrate(engine)
    with dg.DagsterInstance.from_config(str(settings.instance_home)) as instance:
        report = collect_health(defs, instance, engine)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2, default=str))
    else:
        print(format_report(report))
    return 0 if report.ok(strict=args.strict) else 1


def add_commands(commands: argparse._SubParsersAction) -> None:
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

    health = commands.add_parser("health", help="asset health: materializations, checks, freshness, alerts")
    health.add_argument("--home")
    health.add_argument("--json", action="store_true", help="machine-readable output")
    health.add_argument("--strict", action="store_true", help="failed WARN checks count as failing too")
    health.set_defaults(func=cmd_health)
