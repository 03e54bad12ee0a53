"""``retail-platform``: the product's command line.

retail-platform run            prepare the warehouse, load the landing folder, build everything, summarize
retail-platform health         asset health: materializations, checks, freshness, open alerts
retail-platform ui             the Dagster UI (webserver and daemon) on the same warehouse and instance
retail-platform dashboard      the business dashboard (Streamlit) on the marts, read-only
retail-platform generate       write a sample drop in the real data's shape
retail-platform migrate        apply pending warehouse migrations
retail-platform stop           stop the embedded PostgreSQL server
retail-platform simulate-shop  write orders into the shop's OLTP database
retail-platform bench          benchmark the load and the whole graph against a bare COPY
retail-platform create-webapp-role  the web application's read-only LOGIN role (password from RETAIL_WEBAPP_PASSWORD)
retail-platform retract FILE   take a loaded file back out (or --load-id N); the next refresh rebuilds

Each command module adds its own subcommands (``add_commands``); settings are resolved once per command
(``environment.prepare``) and passed on explicitly.
"""

from __future__ import annotations

import argparse
import sys

from retail_platform.cli import retract, run, servers, tools, webapp

COMMAND_MODULES = (run, servers, tools, webapp, retract)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="retail-platform", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        module.add_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command; a setting that cannot be used or a warehouse that cannot be reached is one line on
    stderr (password masked) and a non-zero exit, not a traceback."""
    from retail_platform.settings import SettingError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except SettingError as error:
        print(f"retail-platform {args.command}: {error}", file=sys.stderr)
        return 2
    except Exception as error:
        from retail_platform.warehouse.connection import connection_failure

        failure = connection_failure(error)
        if failure is None:
            raise
        print(f"retail-platform {args.command}: the warehouse's server failed: {failure}", file=sys.stderr)
        return 1
