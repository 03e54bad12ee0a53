"""Figures of the customer-intelligence branch: how well the models do and how long the branch takes.

    .venv/bin/python -m retail_platform.bench_predictions --file ../shared/data/online_retail_II_2009-2010.csv.gz
    .venv/bin/python -m retail_platform.bench_predictions --rows 1067371

A benchmark, not a test: it asserts nothing. In a scratch database on the server (``--server``, default
``RETAIL_WAREHOUSE_URL``, else a private embedded server started for the run), it loads the file (or ``--rows`` generated lines), builds ``clean.order_lines`` and
``marts.rfm_scores`` (not timed), then materializes the branch (CLV, its evaluation, recommendations and
theirs, next best actions, the decile chart, and every check on them) in one in-process run, and prints the
evaluations (MAE, AUC, hit rate against their baselines, time split at the last ``--horizon`` days), the fit
times, the time of every step, the branch's wall time, the CPU time of this process and of the server (a
machine shared with other work stretches wall times; CPU time much less) and the peak memory of both.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg
import pandas as pd
from sqlalchemy import text


def _server_cpu_s(server) -> float | None:
    """CPU seconds used so far by the server: its live processes, plus what its exited children used (the
    postmaster's cutime/cstime). None when the server is not on this machine."""
    if not server.available:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in server._processes():
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
        if pid == server._postmaster:
            total += int(fields[13]) + int(fields[14])  # cutime, cstime: children already gone
    return total / ticks


def _branch():
    from retail_platform.defs.predictions import actions, checks, clv, recommendations
    from retail_platform.defs.predictions import charts as prediction_charts

    assets = [
        clv.customer_lifetime_value,
        clv.clv_model_evaluation,
        recommendations.product_recommendations,
        actions.customer_actions,
        prediction_charts.clv_purchases_by_decile,
    ]
    return assets, [
        *checks.prediction_sql_checks,
        *checks.prediction_png_checks,
        *checks.prediction_schema_checks,
        *checks.prediction_row_drop_checks,
    ]


def _resources(url: str, home: Path) -> dict:
    from retail_platform.defs.alerting import AlertingResource
    from retail_platform.defs.resources import RetailPathsResource, WarehouseResource

    return {
        "warehouse": WarehouseResource(url=url),
        "retail_paths": RetailPathsResource(home=str(home)),
        "alerting": AlertingResource(webhook_url=None),
    }


def _metadata(result: dg.ExecuteInProcessResult) -> dict[str, dict]:
    return {
        event.asset_key.to_user_string(): event.step_materialization_data.materialization.metadata
        for event in result.all_events
        if event.is_step_materialization
    }


def run(server_url: str, path: Path, horizon_days: int, workdir: Path) -> int:
    from retail_platform.bench import ServerMemory, migrated_scratch_database, peak_rss_mb, reset_peak_rss
    from retail_platform.defs.cleaning import assets as cleaning
    from retail_platform.defs.marts import rfm
    from retail_platform.defs.partitions import every_month_tags
    from retail_platform.ingestion.loader import load_file
    from retail_platform.warehouse.connection import engine_for

    with migrated_scratch_database(server_url, "predictions") as url:
        engine = engine_for(url)
        started = time.perf_counter()
        load_file(engine, path, progress=lambda _message: None)
        with dg.DagsterInstance.ephemeral() as instance:
            upstream = dg.materialize(
                [cleaning.order_lines, rfm.rfm_scores],
                instance=instance,
                resources=_resources(url, workdir),
                tags=every_month_tags(),
            )
            prepared_s = time.perf_counter() - started
            if not upstream.success:
                print("the upstream assets failed", file=sys.stderr)
                return 1
            with engine.connect() as conn:
                lines = conn.execute(text("SELECT count(*) FROM clean.order_lines")).scalar_one()
            assets, checks = _branch()
            split = {"horizon_days": horizon_days}
            config = {
                "ops": {
                    "marts__customer_lifetime_value": {"config": split},
                    "clv_model_evaluation": {"config": split},
                    "product_recommendations": {"config": split},
                }
            }
            reset_peak_rss()
            with ServerMemory(url) as server:
                server_cpu = _server_cpu_s(server)
                cpu = os.times()
                started = time.perf_counter()
                result = dg.materialize(
                    [*assets, *checks],
                    instance=instance,
                    resources=_resources(url, workdir),
                    run_config=config,
                )
                branch_s = time.perf_counter() - started
                after = os.times()
                process_cpu_s = (after.user - cpu.user) + (after.system - cpu.system)
                server_after = _server_cpu_s(server)
                server_cpu_s = None if server_cpu is None else server_after - server_cpu
                load = os.getloadavg()[0]
            steps = {
                stat.step_key: (stat.end_time or 0) - (stat.start_time or 0)
                for stat in instance.get_run_step_stats(result.run_id)
            }
        metadata = _metadata(result)
        with engine.connect() as conn:
            clv_eval = pd.read_sql_query(
                text("SELECT * FROM marts.clv_model_evaluation ORDER BY metric"), conn
            )
            rec_eval = pd.read_sql_query(
                text("SELECT * FROM marts.recommendation_evaluation ORDER BY method"), conn
            )
            actions = pd.read_sql_query(text("SELECT action, count(*) AS customers FROM marts.customer_actions GROUP BY 1 ORDER BY 2 DESC"), conn)  # fmt: skip
        checks_failed = [
            f"{e.asset_key.to_user_string()}:{e.check_name}"
            for e in result.get_asset_check_evaluations()
            if not e.passed
        ]
        engine.dispose()
    _print(path, lines, prepared_s, branch_s, steps, metadata, clv_eval, rec_eval, actions, checks_failed)
    server_text = "not measurable" if server_cpu_s is None else f"{server_cpu_s:.2f} s"
    print(f"CPU during the branch: this process {process_cpu_s:.2f} s, server {server_text}; "
          f"load average at its end {load:.1f} on {os.cpu_count()} cores")  # fmt: skip
    print(f"peak memory: this process {peak_rss_mb():,.0f} MiB during the branch; server "
          + (f"{server.peak_mb:,.0f} MiB (largest process)" if server.peak_mb is not None else "not measurable"))  # fmt: skip
    return 0 if result.success else 1


def _print(
    path, lines, prepared_s, branch_s, steps, metadata, clv_eval, rec_eval, actions, checks_failed
) -> None:
    clv_meta = metadata.get("marts/customer_lifetime_value", {})
    eval_meta = metadata.get("marts/clv_model_evaluation", {})

    def value(meta: dict, key: str) -> str:
        item = meta.get(key)
        return (
            "-" if item is None else f"{item.value:.3f}" if isinstance(item.value, float) else str(item.value)
        )

    print("=" * 96)
    print(f"{path.name}: {lines:,} clean lines; load + clean + RFM (not in the branch) {prepared_s:.1f} s")
    print("-" * 96)
    print("CLV evaluation (BG/NBD, fitted before calibration_end, judged on the holdout):")
    print(clv_eval.drop(columns=["snapshot_date", "horizon_days"]).to_string(index=False))
    print("Recommendation evaluation (hit rate at 10, same split):")
    print(rec_eval.drop(columns=["snapshot_date", "horizon_days"]).to_string(index=False))
    print(f"fit on the whole history: BG/NBD {value(clv_meta, 'bgnbd_fit_seconds')} s, Gamma-Gamma "
          f"{value(clv_meta, 'gamma_gamma_fit_seconds')} s; on the calibration period: BG/NBD "
          f"{value(eval_meta, 'bgnbd_fit_seconds')} s; parameters {value(clv_meta, 'parameters')}")  # fmt: skip
    print("actions: " + ", ".join(f"{a} {n:,}" for a, n in actions.itertuples(index=False)))
    print("-" * 96)
    for step, seconds in sorted(steps.items(), key=lambda item: -item[1]):
        print(f"  {step:<72} {seconds:7.2f} s")
    print(f"branch (assets and checks, one in-process run): {branch_s:.2f} s")
    print("failed checks: " + (", ".join(checks_failed) or "none"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--server",
        default=os.environ.get("RETAIL_WAREHOUSE_URL"),
        help="PostgreSQL server URL (default: RETAIL_WAREHOUSE_URL, else a private embedded server, so that the "
        "server's CPU time is this run's alone)",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--file", type=Path, help="a drop to load (e.g. the real sheet)")
    source.add_argument("--rows", type=int, help="generate this many lines instead")
    parser.add_argument("--seed", type=int, default=20091201)
    parser.add_argument("--horizon", type=int, default=90, help="horizon and holdout days (default 90)")
    args = parser.parse_args(argv)
    from retail_platform.warehouse.connection import libpq_url
    from retail_platform.warehouse.embedded import start_embedded, stop_embedded

    with tempfile.TemporaryDirectory(prefix="retail_bench_predictions_") as folder:
        workdir = Path(folder)
        path = args.file
        if path is None:
            from retail_platform.sample_data import write_sample

            path = workdir / f"sample_{args.rows}.csv"
            write_sample(path, args.rows, args.seed)
        if args.server:
            return run(libpq_url(args.server), path.resolve(), args.horizon, workdir)
        pgdata = workdir / "pgdata"
        try:
            return run(start_embedded(pgdata, database="postgres"), path.resolve(), args.horizon, workdir)
        finally:
            stop_embedded(pgdata)


if __name__ == "__main__":
    sys.exit(main())
