"""The file-drop sensor: a file that lands in the landing folder is loaded once, by a run of its own.

**When is a file ready?** Only when it is complete. Two producer conventions are supported:

1. *Write under a temporary name, then rename* (the safe one; ``rsync``, ``curl -o x.part && mv``, most
   transfer tools): names ending in ``.tmp``, ``.part``, ``.partial``, ``.crdownload``, ``.filepart``, or
   starting with ``.`` or ``~$``, are never loaded, however long they stay. After the rename the file is
   ready at once when the sensor had seen it under its temporary name (same inode), else on the next tick.
2. *Write in place*: a file is ready once its size and modification time have stayed the same across two
   ticks at least ``RETAIL_FILE_DROP_SETTLE_SECONDS`` apart (default 5 s; an empty file waits 60 s). A
   producer that writes in place must not pause longer than that in the middle of a file.

**One run per ready file.** Each run of ``load_file_job`` names its file in the run config and carries the
tags ``retail/landing_file``, ``retail/sha256`` and ``retail/drop`` (``name@sha256[:16]``). The run key is
``<drop>#<attempt>`` (``retries.py``): Dagster never reuses a run key, so a failed load gets the next attempt
number (after a backoff) instead of being ignored forever, and a daemon that restarts mid-tick submits
nothing twice. The same content is never loaded twice whatever the sensor does: the loader recognises the
bytes (ledger status ``duplicate``, pointing at the first load) and the lines (line identity). A file dropped
again under a new name still gets its run, cheap, so that the ledger says why it loaded nothing.

**Bounded work per tick.** The sensor stats the folder (cheap for thousands of files), keeps at most
``RETAIL_FILE_DROP_MAX_IN_FLIGHT`` load runs queued or running (default 4; loads are serialized by the
warehouse pool anyway) and requests at most ``RETAIL_FILE_DROP_MAX_RUNS_PER_TICK`` per tick (default 4),
oldest files first, and stops hashing after ``HASH_BUDGET_SECONDS``: hundreds of files arriving at once
neither time out the tick nor flood the run queue; they drain in order.

**The cursor** holds what the sensor saw of each file still in the folder (size, mtime, inode, when first
seen with that signature, and its sha256 once computed), not a high-water mark of modification times: a file
copied in with an old mtime (``cp -p``, ``rsync -t``, an unzip) is as visible as a new one. Files leave the
cursor when they leave the folder. Losing the cursor costs one tick of settling, nothing else.

While a full refresh is running (it loads the whole landing folder) the sensor waits for it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

import dagster as dg

from retail_platform.defs.automation.jobs import full_refresh_job, load_file_job
from retail_platform.defs.automation.retries import decide, history, unfinished_runs
from retail_platform.defs.ingestion.assets import LandingLoadConfig
from retail_platform.defs.resources import RetailPathsResource
from retail_platform.ingestion.loader import file_digest
from retail_platform.ingestion.readiness import Candidate, Cursor, drop_id, scan_landing
from retail_platform.settings import current_settings

SETTINGS = current_settings().file_drop
HASH_BUDGET_SECONDS = 20.0

TAG_FILE = "retail/landing_file"
TAG_SHA = "retail/sha256"
TAG_DROP = "retail/drop"
TAG_ATTEMPT = "retail/attempt"
TAG_TRIGGER = "retail/trigger"

_LISTED = 5  # names shown per category in a skip reason


def _names(items: Iterable[str], limit: int = _LISTED) -> str:
    items = list(items)
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def evaluate(
    context: dg.SensorEvaluationContext,
    landing: Path,
    *,
    now: float | None = None,
    settle_seconds: float = SETTINGS.settle_seconds,
    max_in_flight: int = SETTINGS.max_in_flight,
    max_runs_per_tick: int = SETTINGS.max_runs_per_tick,
    max_attempts: int = SETTINGS.max_attempts,
    hash_budget_seconds: float = HASH_BUDGET_SECONDS,
) -> dg.SensorResult:
    """One tick: scan, decide, request. Separate from the decorated sensor so tests can set the clock."""
    now = time.time() if now is None else now
    cursor = Cursor.loads(context.cursor)
    scan, next_cursor = scan_landing(landing, cursor, now, settle_seconds)
    if scan.missing_folder:
        return dg.SensorResult(
            skip_reason=f"the landing folder {landing} does not exist", cursor=next_cursor.dumps()
        )

    notes: list[str] = []
    if scan.writing:
        notes.append(
            f"{len(scan.writing)} file(s) still being written under a temporary name: {_names(scan.writing)}"
        )
    if scan.settling:
        notes.append(
            f"{len(scan.settling)} file(s) settling (size and mtime must stay unchanged for {settle_seconds:g} s): "
            + _names(f"{name} ({left:.0f} s left)" for name, left in scan.settling)
        )
    requests: list[dg.RunRequest] = []
    if scan.ready:
        refresh = unfinished_runs(context.instance, full_refresh_job.name)
        if refresh:
            notes.insert(
                0,
                f"{len(scan.ready)} ready file(s) wait for the full refresh in progress "
                f"(run {refresh[0].dagster_run.run_id[:8]}), which loads the landing folder",
            )
        else:
            requests = _plan(
                context,
                scan.ready,
                next_cursor,
                notes,
                now,
                max_in_flight,
                max_runs_per_tick,
                max_attempts,
                hash_budget_seconds,
            )

    if requests:
        context.log.info(
            f"Requested {len(requests)} load run(s): {_names(r.tags[TAG_FILE] for r in requests)}"
            + (". Also: " + "; ".join(notes) if notes else "")
        )
        return dg.SensorResult(run_requests=requests, cursor=next_cursor.dumps())
    if not notes:
        notes.append(f"the landing folder {landing} is empty: waiting for files")
    return dg.SensorResult(skip_reason="; ".join(notes), cursor=next_cursor.dumps())


def _plan(
    context: dg.SensorEvaluationContext,
    ready: list[Candidate],
    cursor: Cursor,
    notes: list[str],
    now: float,
    max_in_flight: int,
    max_runs_per_tick: int,
    max_attempts: int,
    hash_budget_seconds: float,
) -> list[dg.RunRequest]:
    in_flight = unfinished_runs(context.instance, load_file_job.name)
    loading = {record.dagster_run.tags.get(TAG_FILE) for record in in_flight}
    slots = min(max(max_in_flight - len(in_flight), 0), max_runs_per_tick)
    requests: list[dg.RunRequest] = []
    waiting: list[str] = []
    backoff: list[str] = []
    gave_up: list[str] = []
    started = time.monotonic()
    queued = 0
    for candidate in ready:
        if candidate.name in loading:
            continue
        if len(requests) >= slots or time.monotonic() - started > hash_budget_seconds:
            queued += 1
            continue
        seen = cursor.files[candidate.name]
        if seen.sha256 is None:
            try:
                seen.sha256, _ = file_digest(candidate.path)
            except FileNotFoundError:
                continue
        drop = drop_id(candidate.name, seen.sha256)
        decision = decide(history(context.instance, TAG_DROP, drop), now, max_attempts)
        if decision.action == "in_flight":
            waiting.append(f"{candidate.name} ({decision.reason})")
        elif decision.action == "backoff":
            backoff.append(f"{candidate.name}: {decision.reason}")
        elif decision.action == "gave_up":
            gave_up.append(f"{candidate.name}: {decision.reason}")
        elif candidate.path.exists():
            requests.append(
                dg.RunRequest(
                    run_key=f"{drop}#{decision.attempt}",
                    run_config=dg.RunConfig(
                        ops={"raw_transactions": LandingLoadConfig(files=[candidate.name])}
                    ),
                    tags={
                        TAG_FILE: candidate.name,
                        TAG_SHA: seen.sha256,
                        TAG_DROP: drop,
                        TAG_ATTEMPT: str(decision.attempt),
                        TAG_TRIGGER: "file_drop",
                    },
                )
            )
    if in_flight and (queued or not requests):
        notes.insert(
            0,
            f"{len(in_flight)} load run(s) queued or running (at most {max_in_flight})"
            + (f"; {queued} more ready file(s) wait their turn, oldest first" if queued else ""),
        )
    elif queued:
        notes.insert(
            0,
            f"{queued} more ready file(s) wait for the next tick (at most {max_runs_per_tick} runs per tick)",
        )
    if waiting:
        notes.append(f"waiting for the runs of {_names(waiting)}")
    if backoff:
        notes.append("retrying after a backoff: " + _names(backoff))
    if gave_up:
        notes.append("stopped retrying: " + _names(gave_up))
    return requests


@dg.sensor(
    name="landing_file_sensor",
    job=load_file_job,
    minimum_interval_seconds=SETTINGS.interval_seconds,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Loads each complete file that lands in the landing folder exactly once, in a run of its own "
    "(load_file_job): temporary names are ignored until renamed; other files must keep their size and mtime "
    f"for {SETTINGS.settle_seconds:g} s across ticks. At most {SETTINGS.max_in_flight} load runs in flight; failed loads are "
    "retried with a backoff.",
)
def landing_file_sensor(
    context: dg.SensorEvaluationContext, retail_paths: RetailPathsResource
) -> dg.SensorResult:
    return evaluate(context, retail_paths.paths().landing)
