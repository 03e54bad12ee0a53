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

Each command module adds its own subcommands (``add_commands``); settings are resolved once per command
(``environment.prepare``) and passed on explicitly.
"""

from __future__ import annotations

import argparse

from retail_platform.cli import run, servers, tools, webapp

COMMAND_MODULES = (run, servers, tools, webapp)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="retail-platform", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        module.add_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
