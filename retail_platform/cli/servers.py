"""``retail-platform ui`` and ``dashboard``: long-running servers started as child processes, handed the
resolved settings through their environment (``Settings.child_environment``)."""

from __future__ import annotations

import argparse
import os
import sys
from importlib import resources
from pathlib import Path


def _serve(command: list[str], env: dict[str, str]) -> int:
    """The server in its own process group, stopped with everything it started on SIGINT (Ctrl-C), SIGTERM
    or SIGHUP (retail_platform/cli/supervise.py)."""
    from retail_platform.cli.supervise import serve

    return serve(command, {**os.environ, **env})


def cmd_ui(args: argparse.Namespace) -> int:
    """The Dagster UI and daemon (``dagster dev``) on the same warehouse and local instance as ``run``."""
    from retail_platform.cli.environment import prepare
    from retail_platform.warehouse.connection import engine_for, redact
    from retail_platform.warehouse.migrations import migrate

    settings, _ = prepare(args)
    migrate(engine_for(settings.warehouse_url))
    print(f"Warehouse: {redact(settings.warehouse_url)}; Dagster home: {settings.instance_home}")
    print(f"Open http://{args.host}:{args.port} (Ctrl-C stops the UI; 'retail-platform stop' the database)")
    workspace = (
        resources.files("retail_platform") / "workspace.yaml"
    )  # package data (top-level workspace.yaml)
    command = [sys.executable, "-m", "dagster", "dev", "-w", str(workspace)]
    return _serve([*command, "-h", args.host, "-p", str(args.port)], settings.child_environment())


def cmd_dashboard(args: argparse.Namespace) -> int:
    """The Streamlit dashboard (retail_platform/dashboard/): with ``--url``/``RETAIL_DASHBOARD_URL`` on those
    read-only credentials as they are; otherwise on the warehouse, migrated first (it reads migration 011's
    views). Either way every query runs as a read-only role (retail_platform/dashboard/data.py)."""
    from dataclasses import replace

    from retail_platform.analytics.chart_style import PRIMARY
    from retail_platform.cli.environment import prepare
    from retail_platform.settings import DASHBOARD_URL, load_settings
    from retail_platform.warehouse.connection import engine_for, libpq_url, redact
    from retail_platform.warehouse.migrations import migrate

    read_only_url = args.url or load_settings(home=args.home).dashboard_url
    if read_only_url:  # its own credentials: no embedded server to start, no migrations it could not run
        settings = replace(
            load_settings(home=args.home), dashboard_url=libpq_url(read_only_url, DASHBOARD_URL)
        )
        print(f"Warehouse: {redact(read_only_url)} (the dashboard's own read-only credentials)")
    else:
        settings, _ = prepare(args)
        migrate(engine_for(settings.warehouse_url))
        print(f"Warehouse: {redact(settings.warehouse_url)}")
    host, port = args.host or settings.dashboard_host, args.port or settings.dashboard_port
    app = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
    command = [
        *(sys.executable, "-m", "streamlit", "run", str(app)),
        *("--server.address", host, "--server.port", str(port), "--server.headless", "true"),
        *("--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"),
        *("--theme.primaryColor", PRIMARY, "--client.toolbarMode", "minimal"),
    ]
    print(f"Open http://{host}:{port} (Ctrl-C stops the dashboard)", flush=True)
    return _serve(command, settings.child_environment())


def add_commands(commands: argparse._SubParsersAction) -> None:
    ui = commands.add_parser("ui", help="start the Dagster UI and daemon on the same warehouse")
    ui.add_argument("--home")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(func=cmd_ui)

    dashboard = commands.add_parser("dashboard", help="the business dashboard on the marts (read-only)")
    dashboard.add_argument("--home")
    dashboard.add_argument("--host", help="default: $RETAIL_DASHBOARD_HOST, else 127.0.0.1")
    dashboard.add_argument("--port", type=int, help="default: $RETAIL_DASHBOARD_PORT, else 8501")
    dashboard.add_argument(
        "--url", help="read-only credentials (default: $RETAIL_DASHBOARD_URL, else the warehouse)"
    )
    dashboard.set_defaults(func=cmd_dashboard)
