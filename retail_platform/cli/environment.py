"""What every command resolves first: the settings (with ``--home``), the local folders, the local Dagster
instance file and the warehouse URL (starting the embedded server when none is configured)."""

from __future__ import annotations

import argparse
import fcntl
import os
from pathlib import Path

from retail_platform.settings import Settings, load_settings

LOCAL_INSTANCE_MARKER = "# Written by retail-platform"
LOCAL_INSTANCE_CONFIG = f"""{LOCAL_INSTANCE_MARKER}: the LOCAL Dagster instance of `retail-platform run` / `ui`.
# Run history in SQLite beside this file, runs as local processes. The deployed instance (PostgreSQL storage,
# Docker run launcher) is docker/dagster.yaml; it is never read by local runs.
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


def make_private(*folders: Path) -> None:
    """``0700`` folders: archive/ and rejected/ hold every sales line (customer ids included) and the Dagster
    home the run logs, which quote them; no other local user may read them, whatever the umask (issue 13).
    The files inside keep the modes they are written with: the folder already keeps others out."""
    from retail_platform.ingestion.filing import private_folder

    for folder in folders:
        private_folder(folder)


def write_local_instance_config(dagster_home: Path) -> None:
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
        # atomically: a second command starting at the same moment never reads half a file
        partial = config.with_name(f".dagster.yaml.{os.getpid()}")
        partial.write_text(LOCAL_INSTANCE_CONFIG, encoding="utf-8")
        os.replace(partial, config)


def initialize_local_instance(dagster_home: Path) -> None:
    """Create the local instance's SQLite storage once, under a file lock. Two commands started at once on a
    fresh home would otherwise both create its tables and one fail with ``sqlite3.OperationalError: table
    secondary_indexes already exists`` (issue 13, defect 7). Only for the instance file written here: a
    hand-written one (PostgreSQL storage) creates its own tables."""
    config = dagster_home / "dagster.yaml"
    done = dagster_home / ".storage-initialized"  # written once every storage is there
    if done.exists() or not config.read_text(encoding="utf-8").startswith(LOCAL_INSTANCE_MARKER):
        return
    import dagster as dg

    with open(dagster_home / ".initialize.lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not done.exists():
                with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
                    instance.get_runs_count()  # run, event log and schedule storage are created
                    instance.all_instigator_state()
                done.touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def prepare(args: argparse.Namespace) -> tuple[Settings, bool]:
    """The settings of this command, on a resolved warehouse URL, and whether this call started the embedded
    server. Nothing is written to this process's environment: callers pass the settings on explicitly."""
    from retail_platform.warehouse.connection import resolve_warehouse_url
    from retail_platform.warehouse.embedded import started_here

    settings = load_settings(home=getattr(args, "home", None))
    settings.paths.ensure()
    write_local_instance_config(settings.instance_home)
    make_private(settings.paths.archive, settings.paths.rejected, settings.instance_home)
    initialize_local_instance(settings.instance_home)
    url = resolve_warehouse_url(settings.warehouse_url, settings.paths)
    # decided under the server's start lock: of two commands started at once, only one started it
    ours = not settings.warehouse_url and started_here(settings.paths.pgdata)
    return settings.with_warehouse(url), ours


def is_embedded(url: str) -> bool:
    """The embedded server is reached through its Unix socket folder."""
    return "host=/" in url or "host=%2F" in url
