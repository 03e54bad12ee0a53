"""The file-drop sensor: the files that land in the landing folder are loaded once each, in batch runs.

**When is a file ready?** Only when it is complete. Two producer conventions are supported:

1. *Write under a temporary name, then rename* (the safe one; ``rsync``, ``curl -o x.part && mv``, most
   transfer tools): names ending in ``.tmp``, ``.part``, ``.partial``, ``.crdownload``, ``.filepart``, or
   starting with ``.`` or ``~$``, are never loaded, however long they stay. After the rename the file is
   ready at once when the sensor had seen it under its temporary name (same inode), else on the next tick.
2. *Write in place*: a file is ready once its size and modification time have stayed the same across two
   ticks at least ``RETAIL_FILE_DROP_SETTLE_SECONDS`` apart (default 5 s; an empty file waits 60 s). A
   producer that writes in place must not pause longer than that in the middle of a file.

**What is not a readable regular file** (a symbolic link, a FIFO, a socket, a device, a directory named like a
drop, a file the platform's user may not read) is ready at once and requested like any file, with a digest of
its identity instead of its content: the load run gives it a ``rejected`` ledger row naming it and moves it to
rejected/, unopened (``ingestion.landing``). The sensor never opens a link or a FIFO, and never raises on them.

**One run per tick for every ready file** (README, *Dropping files*). The tick requests one run of
``load_file_job`` naming its files in drop order (oldest modification time first) in the run config, at most
``RETAIL_FILE_DROP_MAX_BATCH_FILES`` files and ``RETAIL_FILE_DROP_MAX_BATCH_BYTES`` bytes (a bigger file goes
alone): a run costs seconds of process start-up, a small file's load a fraction of one. Each file still loads
in its own transaction with its own ledger row, and a file whose load fails does not stop the others of its
run. Retries stay per file: each file of a batch is tagged (``batch_tags.py``), so ``retries.decide`` sees the
runs that carried it, and a failed file comes back after its own backoff in a later batch, while the files
that loaded are in archive/ and gone from the folder. The run key is derived from the batch's files and their
attempt numbers: a daemon that restarts mid-tick asks for the same batch under the same key (submitted once),
and the loader recognises bytes and lines it already has in any case (sha256 and line identity).

**Bounded work per tick.** The sensor stats the folder (cheap for thousands of files), keeps at most
``RETAIL_FILE_DROP_MAX_IN_FLIGHT`` load runs queued or running (default 2: one loading, one collecting the
files that arrived meanwhile; loads are serialized by the warehouse pool anyway), skips files already in a run
in flight, and stops hashing after ``HASH_BUDGET_SECONDS``.

**The cursor** holds what the sensor saw of each file still in the folder (size, mtime, inode, when first
seen with that signature, and its sha256 once computed), not a high-water mark of modification times: a file
copied in with an old mtime (``cp -p``, ``rsync -t``, an unzip) is as visible as a new one. Files leave the
cursor when they leave the folder. Losing the cursor costs one tick of settling, nothing else.

While a full refresh is running (it loads the whole landing folder) the sensor waits for it.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from retail_platform.defs.automation.batch_tags import (
    TAG_FILE_COUNT,
    TAG_TRIGGER,
    batch_run_key,
    drops_of,
    file_tag_key,
    name_of,
)
from retail_platform.defs.automation.jobs import full_refresh_job, load_file_job
from retail_platform.defs.automation.retries import decide, history, unfinished_runs
from retail_platform.defs.automation.sensor_policy import running_sensor
from retail_platform.defs.ingestion.assets import LandingLoadConfig
from retail_platform.defs.resources import RetailPathsResource
from retail_platform.ingestion.loader import file_digest
from retail_platform.ingestion.readiness import Candidate, Cursor, drop_id, scan_landing
from retail_platform.settings import current_settings

SETTINGS = current_settings().file_drop
HASH_BUDGET_SECONDS = 20.0

_LISTED = 5  # names shown per category in a skip reason


def _names(items: Iterable[str], limit: int = _LISTED) -> str:
    items = list(items)
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


@dataclass(frozen=True)
class Limits:
    """What one tick may do (the settings, or a test's)."""

    settle_seconds: float = SETTINGS.settle_seconds
    max_in_flight: int = SETTINGS.max_in_flight
    max_batch_files: int = SETTINGS.max_batch_files
    max_batch_bytes: int = SETTINGS.max_batch_bytes
    max_attempts: int = SETTINGS.max_attempts
    hash_budget_seconds: float = HASH_BUDGET_SECONDS


def evaluate(
    context: dg.SensorEvaluationContext, landing: Path, *, now: float | None = None, **limits: float
) -> dg.SensorResult:
    """One tick: scan, decide, request. Separate from the decorated sensor so tests can set the clock and the
    limits (keyword arguments named as the fields of ``Limits``)."""
    now = time.time() if now is None else now
    bounds = Limits(**limits)
    cursor = Cursor.loads(context.cursor)
    scan, next_cursor = scan_landing(landing, cursor, now, bounds.settle_seconds)
    if scan.missing_folder:
        return dg.SensorResult(
            skip_reason=f"the landing folder {landing} does not exist", cursor=next_cursor.dumps()
        )
    if scan.unreadable_folder:
        return dg.SensorResult(
            skip_reason=f"the landing folder {landing} cannot be listed: {scan.unreadable_folder}",
            cursor=next_cursor.dumps(),
        )

    notes: list[str] = []
    if scan.writing:
        notes.append(
            f"{len(scan.writing)} file(s) still being written under a temporary name: {_names(scan.writing)}"
        )
    if scan.settling:
        notes.append(
            f"{len(scan.settling)} file(s) settling (size and mtime must stay unchanged for "
            f"{bounds.settle_seconds:g} s): "
            + _names(f"{name} ({left:.0f} s left)" for name, left in scan.settling)
        )
    request: dg.RunRequest | None = None
    if scan.ready:
        refresh = unfinished_runs(context.instance, full_refresh_job.name)
        if refresh:
            notes.insert(
                0,
                f"{len(scan.ready)} ready file(s) wait for the full refresh in progress "
                f"(run {refresh[0].dagster_run.run_id[:8]}), which loads the landing folder",
            )
        else:
            request = _plan(context, scan.ready, next_cursor, notes, now, bounds)

    if request is not None:
        names = LandingLoadConfig(**request.run_config["ops"]["raw_transactions"]["config"]).files
        context.log.info(
            f"Requested one load run for {len(names)} file(s): {_names(names)}"
            + (". Also: " + "; ".join(notes) if notes else "")
        )
        return dg.SensorResult(run_requests=[request], cursor=next_cursor.dumps())
    if not notes:
        notes.append(f"the landing folder {landing} is empty: waiting for files")
    return dg.SensorResult(skip_reason="; ".join(notes), cursor=next_cursor.dumps())


@dataclass
class _Batch:
    """The files of the run this tick requests, and why the other ready files are not in it."""

    entries: list[tuple[Candidate, str, int]] = field(default_factory=list)  # candidate, drop id, attempt
    size: int = 0
    over_limit: int = 0
    waiting: list[str] = field(default_factory=list)
    backoff: list[str] = field(default_factory=list)
    gave_up: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)  # processed, but could not be moved out of the folder

    def full(self, candidate: Candidate, bounds: Limits) -> bool:
        """No room for the candidate; a file bigger than the byte bound still goes, alone."""
        return len(self.entries) >= bounds.max_batch_files or (
            bool(self.entries) and self.size + candidate.size > bounds.max_batch_bytes
        )

    def request(self) -> dg.RunRequest:
        files = [candidate.name for candidate, _, _ in self.entries]
        return dg.RunRequest(
            run_key=batch_run_key([(drop, attempt) for _, drop, attempt in self.entries]),
            run_config=dg.RunConfig(ops={"raw_transactions": LandingLoadConfig(files=files)}),
            tags={
                **{file_tag_key(candidate.name): drop for candidate, drop, _ in self.entries},
                TAG_FILE_COUNT: str(len(files)),
                TAG_TRIGGER: "file_drop",
            },
        )


def _plan(
    context: dg.SensorEvaluationContext,
    ready: list[Candidate],
    cursor: Cursor,
    notes: list[str],
    now: float,
    bounds: Limits,
) -> dg.RunRequest | None:
    """One batch of the ready files, in drop order, within the bounds; notes say what waits and why."""
    in_flight = unfinished_runs(context.instance, load_file_job.name)
    loading = {name_of(drop) for record in in_flight for drop in drops_of(record.dagster_run.tags)}
    pending = [candidate for candidate in ready if candidate.name not in loading]
    if len(in_flight) >= bounds.max_in_flight:
        notes.insert(
            0,
            f"{len(in_flight)} load run(s) queued or running (at most {bounds.max_in_flight})"
            + (
                f"; {len(pending)} more ready file(s) wait for the next batch, oldest first"
                if pending
                else ""
            ),
        )
        return None
    batch = _Batch()
    started = time.monotonic()
    for candidate in pending:
        if batch.full(candidate, bounds) or time.monotonic() - started > bounds.hash_budget_seconds:
            batch.over_limit += 1
            continue
        fingerprint = _fingerprint(candidate, cursor)
        if fingerprint is None:
            continue
        drop = drop_id(candidate.name, fingerprint)
        records = history(context.instance, file_tag_key(candidate.name), drop)
        decision = decide(records, now, bounds.max_attempts)
        left_by = _left_behind_by(records, candidate) if decision.action == "request" else None
        if left_by is not None:
            batch.left.append(f"{candidate.name} (run {left_by[:8]})")
        elif decision.action == "in_flight":
            batch.waiting.append(f"{candidate.name} ({decision.reason})")
        elif decision.action == "backoff":
            batch.backoff.append(f"{candidate.name}: {decision.reason}")
        elif decision.action == "gave_up":
            batch.gave_up.append(f"{candidate.name}: {decision.reason}")
        elif os.path.lexists(candidate.path):
            batch.entries.append((candidate, drop, decision.attempt))
            batch.size += candidate.size
    _explain(batch, in_flight, bounds, notes)
    return batch.request() if batch.entries else None


def _fingerprint(candidate: Candidate, cursor: Cursor) -> str | None:
    """The sha256 of a ready file (kept in the cursor); None when it is gone. What cannot be read (not a regular
    file, no read permission) gets a digest of its identity instead: it is requested all the same, so that the
    load run gives it a ledger row with the reason and moves it to rejected/, and the sensor never raises on
    it (issue 13, defects 1, 6 and 14)."""
    identity = f"{candidate.kind}:{candidate.inode}:{candidate.size}:{candidate.mtime_ns}"
    unread = hashlib.sha256(identity.encode()).hexdigest()
    seen = cursor.files.get(candidate.name)
    if candidate.kind != "file" or seen is None:
        return unread
    if seen.sha256 is None:
        try:
            seen.sha256, _ = file_digest(candidate.path)
        except FileNotFoundError:
            return None
        except OSError:
            return unread
    return seen.sha256


def _left_behind_by(records: list[dg.RunRecord], candidate: Candidate) -> str | None:
    """The id of a run that succeeded on this very file, created after the file last changed (its ctime,
    which a rename or a new copy updates): the file is still here because that run could not move it (a
    read-only landing folder). Requesting it again would load nothing, on every tick; a new copy of it is
    requested as usual."""
    try:
        changed = os.lstat(candidate.path).st_ctime
    except OSError:
        return None
    for record in records:
        created = record.create_timestamp.timestamp()
        if record.dagster_run.status == dg.DagsterRunStatus.SUCCESS and created > changed:
            return record.dagster_run.run_id
    return None


def _explain(batch: _Batch, in_flight: list[dg.RunRecord], bounds: Limits, notes: list[str]) -> None:
    if batch.over_limit:
        notes.insert(
            0,
            f"{batch.over_limit} more ready file(s) wait for the next batch (at most "
            f"{bounds.max_batch_files} files and {bounds.max_batch_bytes:,} bytes per run)",
        )
    if in_flight and not batch.entries:
        notes.insert(0, f"{len(in_flight)} load run(s) queued or running (at most {bounds.max_in_flight})")
    if batch.waiting:
        notes.append(f"waiting for the runs of {_names(batch.waiting)}")
    if batch.backoff:
        notes.append("retrying after a backoff: " + _names(batch.backoff))
    if batch.gave_up:
        notes.append("stopped retrying: " + _names(batch.gave_up))
    if batch.left:
        notes.append(
            "processed by a run that succeeded but could not move them out of the landing folder (read-only?), "
            "see raw.file_loads.left_in_landing: " + _names(batch.left)
        )


@running_sensor(
    "landing_file_sensor",
    job=load_file_job,
    interval_seconds=SETTINGS.interval_seconds,
    description="Loads each complete file that lands in the landing folder exactly once: one run of "
    f"load_file_job per tick for every ready file (at most {SETTINGS.max_batch_files} files, "
    f"{SETTINGS.max_batch_bytes:,} bytes), each file in its own transaction; temporary names are ignored "
    "until renamed; other files must keep their size and mtime "
    f"for {SETTINGS.settle_seconds:g} s across ticks. At most {SETTINGS.max_in_flight} load runs in flight; a "
    "failed file is retried on its own with a backoff.",
)
def landing_file_sensor(
    context: dg.SensorEvaluationContext, retail_paths: RetailPathsResource
) -> dg.SensorResult:
    return evaluate(context, retail_paths.paths().landing)
