"""``retail-platform run`` and ``health``: the main job in process, its summary, and asset health."""

from __future__ import annotations

import argparse
import json
import sys
import time

SAMPLE_ROWS = 100_000
SAMPLE_SEED = 20091201


def cmd_run(args: argparse.Namespace) -> int:
    """Prepare the warehouse, load the landing folder (a sample drop when nothing was ever loaded), build
    every asset in process, print the summary; non-zero when the run failed or a file was rejected.

    A warehouse that goes away (the embedded server killed, the external one unreachable) is one line naming
    it, the password masked, and a summary of what the run did from Dagster's own record: no traceback."""
    from retail_platform.cli.console import install_console_logging
    from retail_platform.cli.environment import prepare
    from retail_platform.warehouse.connection import connection_failure, dispose_engines, engine_for
    from retail_platform.warehouse.embedded import stop_embedded

    started = time.perf_counter()
    install_console_logging(args.verbose)
    settings, started_here = prepare(args)
    paths, url = settings.paths, settings.warehouse_url
    print(_describe(url, paths))
    engine = engine_for(url)
    before = _landing_files(paths)
    outcome: dict = {}
    try:
        ok = _run_and_summarize(args, settings, engine, started, outcome)
    except Exception as error:
        failure = connection_failure(error)
        if failure is None:
            raise
        _print_offline_summary(outcome.get("result"), paths, before, time.perf_counter() - started)
        where = _describe(url, paths).removeprefix("Warehouse: ")
        print(f"retail-platform run: lost the warehouse ({where}): {failure}", file=sys.stderr)
        ok = False
    finally:
        if started_here and not args.keep_server:
            dispose_engines()  # every engine of this process, whichever spelling of the URL it was made from
            stop_embedded(paths.pgdata, unless_in_use=True)  # another run may be using it
    return 0 if ok else 1


def _describe(url: str, paths) -> str:
    from retail_platform.cli.environment import is_embedded
    from retail_platform.warehouse.connection import redact

    return (
        f"Warehouse: embedded PostgreSQL, data in {paths.pgdata}"
        if is_embedded(url)
        else f"Warehouse: {redact(url)}"
    )


def _run_and_summarize(args: argparse.Namespace, settings, engine, started: float, outcome: dict) -> bool:
    """Migrate, load and build in process, print the summary, retry undelivered alerts; the run's result
    goes into ``outcome`` as soon as there is one (the summary needs it if the warehouse goes away)."""
    import dagster as dg

    from retail_platform.cli.console import compact_console_logger
    from retail_platform.definitions import defs
    from retail_platform.defs.partitions import every_month_tags
    from retail_platform.defs.resources import default_resources
    from retail_platform.ingestion.landing import ready_files
    from retail_platform.reporting import print_run_summary
    from retail_platform.sample_data import write_sample
    from retail_platform.warehouse.migrations import migrate

    paths = settings.paths
    migrate(engine)
    if not ready_files(paths.landing) and _never_loaded(engine):
        sample = paths.landing / "sample_online_retail.csv"
        lines = write_sample(sample, args.sample_rows, SAMPLE_SEED)
        print(f"Landing folder was empty: wrote a sample drop of {lines:,} lines to {sample}")
    print(
        f"Loading {len(ready_files(paths.landing))} file(s) from {paths.landing} and building every asset..."
    )
    resources = default_resources(settings)
    job = defs.resolve_job_def("full_refresh_job").with_logger_defs({"console": compact_console_logger})
    with dg.DagsterInstance.from_config(str(settings.instance_home)) as instance:
        outcome["result"] = job.execute_in_process(
            instance=instance,
            resources=resources,
            raise_on_error=False,
            # progress and warnings on the console, not every engine event (they are in the UI), and each
            # error in a few lines (the traces are in the run's log) unless --verbose
            run_config={"loggers": {"console": {"config": {"log_level": "INFO", "verbose": args.verbose}}}},
            tags=every_month_tags(),  # every monthly partition, so the UI shows each month rebuilt
        )
    ok = print_run_summary(engine, outcome["result"], paths, time.perf_counter() - started)
    _deliver_pending_alerts(engine, resources["alerting"])
    return ok


def _deliver_pending_alerts(engine, alerting) -> None:
    """Alerts whose webhook delivery failed earlier and are due again: retried at the end of every run."""
    import dagster as dg

    url = alerting.webhook_url
    url = url.get_value() if isinstance(url, dg.EnvVar) else url
    if url:
        from retail_platform.monitoring.alerts import deliver_pending

        delivered = deliver_pending(engine, url, retry_seconds=alerting.retry_seconds)
        if delivered:
            print(f"Alerts: delivered {delivered} alert(s) that had failed to reach the webhook earlier")


def _landing_files(paths) -> set[str]:
    try:
        return {entry.name for entry in paths.landing.iterdir() if entry.is_file()}
    except OSError:
        return set()


def _print_offline_summary(result, paths, before: set[str], seconds: float) -> None:
    """What a run did, told without the warehouse: its steps from Dagster's result, its files from the
    landing and archive folders."""
    print()
    print("=" * 78)
    if result is None:
        print(f"Run not started: the warehouse went away first ({seconds:.1f} s)")
    else:
        steps: dict[str, list[str]] = {}
        for event in result.all_events:
            if event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED"):
                steps.setdefault(event.event_type_value, []).append(event.step_key)
        print(f"Run {result.run_id[:8]}: FAILED in {seconds:.1f} s: the warehouse went away during the run")
        print("-" * 78)
        done, failed = steps.get("STEP_SUCCESS", []), steps.get("STEP_FAILURE", [])
        print(
            f"Steps: {len(done)} succeeded, {len(failed)} failed, {len(steps.get('STEP_SKIPPED', []))} skipped"
        )
        if done:
            print(f"  done before: {', '.join(done[:12])}" + (" ..." if len(done) > 12 else ""))
        if failed:
            print(f"  failed: {', '.join(failed[:12])}" + (" ..." if len(failed) > 12 else ""))
    remaining = _landing_files(paths)
    archived = sorted(name for name in before - remaining if (paths.archive / name).exists())
    print(f"Files archived this run: {len(archived)}" + (f" ({', '.join(archived[:8])})" if archived else ""))
    waiting = sorted(remaining)
    print(
        f"Still in the landing folder: {len(waiting)} file(s)"
        + (f" ({', '.join(waiting[:8])})" if waiting else "")
        + ": the next run loads them (lines already loaded are not loaded twice)"
    )
    print("Nothing was lost: rerun `retail-platform run` once the warehouse is back.")
    print("=" * 78)


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
        "--verbose", action="store_true", help="print failed steps' whole errors and stack traces"
    )
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
