"""The smaller commands: sample data, migrations, the embedded server, the shop simulator, the benchmark."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from retail_platform.cli.run import SAMPLE_ROWS, SAMPLE_SEED

SHOP_HELP = "write realistic orders and cancellations into the shop's OLTP database"
BENCH_HELP = "benchmark: load and whole graph on N generated lines, against a bare COPY"


def cmd_generate(args: argparse.Namespace) -> int:
    from retail_platform.sample_data import write_sample

    started = time.perf_counter()
    lines = write_sample(Path(args.out), args.rows, args.seed, spelling=args.spelling)
    print(f"Wrote {lines:,} lines to {args.out} in {time.perf_counter() - started:.1f} s")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from retail_platform.cli.environment import prepare
    from retail_platform.warehouse.connection import engine_for, redact
    from retail_platform.warehouse.migrations import migrate

    url = prepare(args)[0].warehouse_url
    applied = migrate(engine_for(url))
    names = ", ".join(m.path.name for m in applied) or "-"
    print(f"{redact(url)}: applied {len(applied)} migration(s): {names}")
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    from retail_platform.settings import load_settings
    from retail_platform.warehouse.embedded import stop_embedded

    stopped = stop_embedded(load_settings(home=args.home).paths.pgdata)
    print("Embedded PostgreSQL stopped." if stopped else "Embedded PostgreSQL was not running.")
    return 0


def cmd_simulate_shop(args: argparse.Namespace) -> int:
    """Write orders into the shop's OLTP database, as the web application would (``--follow``: keep going)."""
    from datetime import datetime

    from retail_platform.cli.environment import prepare
    from retail_platform.oltp.connection import apply_shop_schema, ensure_database, resolve_shop_source
    from retail_platform.oltp.simulator import ShopSimulator
    from retail_platform.warehouse.connection import engine_for

    settings, _ = prepare(args)
    source = resolve_shop_source(args.oltp_url or settings.oltp_url, settings.warehouse_url)
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
    from retail_platform.cli.environment import prepare
    from retail_platform.warehouse.connection import redact
    from retail_platform.warehouse.embedded import stop_embedded

    settings, started_here = prepare(args)
    url = settings.warehouse_url
    print(f"Warehouse server: {redact(url)} (scratch databases, dropped afterwards)", file=sys.stderr)
    try:
        return bench.main(
            url,
            rows=args.rows,
            repeat=args.repeat,
            seed=args.seed,
            as_json=args.json,
            workdir=Path(args.workdir) if args.workdir else None,
            scenario=args.scenario,
            days=args.days,
        )
    finally:
        if started_here and not args.keep_server:
            stop_embedded(settings.paths.pgdata)


def add_commands(commands: argparse._SubParsersAction) -> None:
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

    _home_command(commands, "migrate", cmd_migrate, "apply pending warehouse migrations")
    _home_command(commands, "stop", cmd_stop, "stop the embedded PostgreSQL server")

    _add_shop_command(commands)
    _add_bench_command(commands)


def _home_command(
    commands: argparse._SubParsersAction, name: str, func: Callable[[argparse.Namespace], int], help: str
) -> argparse.ArgumentParser:
    """A subcommand ``name`` running ``func``, with the ``--home`` every warehouse command takes."""
    command = commands.add_parser(name, help=help)
    command.add_argument("--home")
    command.set_defaults(func=func)
    return command


def _add_shop_command(commands: argparse._SubParsersAction) -> None:
    shop = _home_command(commands, "simulate-shop", cmd_simulate_shop, SHOP_HELP)
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


def _add_bench_command(commands: argparse._SubParsersAction) -> None:
    bench = _home_command(commands, "bench", cmd_bench, BENCH_HELP)
    bench.add_argument("--rows", type=int, default=1_067_371, help="lines to generate (default %(default)s)")
    bench.add_argument(
        "--repeat", type=int, default=3, help="repeats; times are medians (default %(default)s)"
    )
    bench.add_argument("--seed", type=int, default=SAMPLE_SEED)
    bench.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    bench.add_argument("--workdir", help="where the generated file goes (default: a temporary folder)")
    bench.add_argument("--keep-server", action="store_true", help="leave the embedded PostgreSQL running")
    bench.add_argument(
        "--scenario",
        choices=("graph", "load", "day"),
        default="graph",
        help="graph: COPY, load, re-drop, whole graph; load: COPY, load, re-drop only (a few seconds a "
        "repeat, so many repeats show the spread of the load's ratio); day: one day's file into a warehouse "
        "of --rows lines, the incremental refresh of its months (--repeat days) against the refresh of every "
        "month",
    )
    bench.add_argument(
        "--days",
        type=int,
        help="days of history the lines span (default: a year, as the UCI export; --days 3650 spreads "
        "10,673,710 lines as ten years of about 3,000 lines a day)",
    )
