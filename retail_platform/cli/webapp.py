"""``retail-platform create-webapp-role``: the web application's read-only LOGIN role on the warehouse."""

from __future__ import annotations

import argparse
import sys


def cmd_create_webapp_role(args: argparse.Namespace) -> int:
    """Create or update the role; the password only ever comes from ``RETAIL_WEBAPP_PASSWORD``."""
    from retail_platform.cli.environment import prepare
    from retail_platform.warehouse.connection import engine_for, redact
    from retail_platform.warehouse.migrations import migrate
    from retail_platform.warehouse.roles import PASSWORD_ENV, create_webapp_role

    settings, _ = prepare(args)
    password, url = settings.webapp_password, settings.warehouse_url
    if not password:
        print(f"Set {PASSWORD_ENV} to the web application's password first.", file=sys.stderr)
        return 2
    migrate(engine_for(url))  # retail_reader and its grants come with the migrations
    try:
        result = create_webapp_role(url, args.role or settings.webapp_role, password)
    except ValueError as error:
        print(f"Not done: {error}", file=sys.stderr)
        return 2
    verb = "Created" if result.created else "Updated the password of"
    print(
        f"{verb} LOGIN role {result.role} on {redact(url)}: member of retail_reader (reads marts and clean, "
        "writes nothing), read-only transactions by default. The web app reads marts.webapp_next_best_actions."
    )
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    role = commands.add_parser(
        "create-webapp-role",
        help="create (or re-password) the web application's read-only LOGIN role; password from "
        "RETAIL_WEBAPP_PASSWORD",
    )
    role.add_argument("--home")
    role.add_argument(
        "--role",
        help="role name (default: $RETAIL_WEBAPP_ROLE, else retail_webapp)",
    )
    role.set_defaults(func=cmd_create_webapp_role)
