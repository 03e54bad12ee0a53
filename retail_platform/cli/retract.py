"""``retail-platform retract FILE`` / ``--load-id N``: take a loaded file back out of the warehouse."""

from __future__ import annotations

import argparse
import sys

RETRACT_HELP = (
    "remove a loaded file's lines (by file name or --load-id) in one transaction; the next refresh rebuilds"
)


def cmd_retract(args: argparse.Namespace) -> int:
    """Retract one load and say what changed; the downstream refresh sensor (or the next ``run``) rebuilds
    the months it touched."""
    from retail_platform.cli.environment import prepare
    from retail_platform.ingestion.retraction import RetractionError, retract
    from retail_platform.warehouse.connection import engine_for
    from retail_platform.warehouse.migrations import migrate

    settings, _ = prepare(args)
    engine = engine_for(settings.warehouse_url)
    migrate(engine)
    try:
        done = retract(engine, file_name=args.file, load_id=args.load_id)
    except RetractionError as error:
        print(f"retail-platform retract: {error}", file=sys.stderr)
        return 1
    print(done.summary())
    print("The downstream refresh sensor rebuilds those months; `retail-platform run` rebuilds everything.")
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    command = commands.add_parser("retract", help=RETRACT_HELP)
    command.add_argument("file", nargs="?", help="the file name as in raw.file_loads (e.g. drop-2010-12.csv)")
    command.add_argument("--load-id", type=int, help="the load id in raw.file_loads instead of a file name")
    command.add_argument("--home")
    command.set_defaults(func=cmd_retract)
