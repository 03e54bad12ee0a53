"""Run keys that can be retried: Dagster never launches a second run for a run key it has seen, even when the
first run failed. The sensors therefore key a run by *what* it does plus an attempt number, and count the
attempts from the runs the instance already has for the same work (found by a tag, not by the run key):

- a run of the same work still queued or running: wait for it;
- the last runs failed (or were canceled): retry with the next attempt number after an exponential backoff
  (30 s, 1 min, 2 min, ... capped at 30 min), up to ``max_attempts`` failures in a row, then stop and say so.
  A failed load is a warehouse or infrastructure error (bad input is rejected, never failed), so retrying
  heals an outage by itself, and the cap keeps a permanent fault from failing runs forever;
- otherwise (never run, or the last run succeeded and the work is back, e.g. the same file dropped again):
  request attempt ``runs so far + 1``.

A daemon that restarts in the middle of a tick evaluates the same state again and gets the same run key, so
the run it may already have submitted is not submitted twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg
from dagster import DagsterRunStatus

NOT_FINISHED = [
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
    DagsterRunStatus.CANCELING,
]
FAILED = (DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED)
BACKOFF_SECONDS = 30.0
BACKOFF_CAP_SECONDS = 1800.0
HISTORY_LIMIT = 50


def unfinished_runs(
    instance: dg.DagsterInstance, job_name: str, limit: int | None = None
) -> list[dg.RunRecord]:
    """The job's runs that are queued or running, newest first."""
    return list(
        instance.get_run_records(filters=dg.RunsFilter(job_name=job_name, statuses=NOT_FINISHED), limit=limit)
    )


@dataclass(frozen=True)
class Decision:
    """``request`` (with ``attempt``), ``in_flight``, ``backoff`` or ``gave_up``, and why."""

    action: str
    attempt: int
    reason: str = ""
    run_id: str | None = None


def backoff_seconds(failures: int) -> float:
    return min(BACKOFF_SECONDS * 2 ** max(failures - 1, 0), BACKOFF_CAP_SECONDS)


def history(instance: dg.DagsterInstance, tag: str, value: str) -> list[dg.RunRecord]:
    """The runs of this work, newest first."""
    return list(instance.get_run_records(filters=dg.RunsFilter(tags={tag: value}), limit=HISTORY_LIMIT))


def decide(records: list[dg.RunRecord], now: float, max_attempts: int) -> Decision:
    """What to do about one piece of work, given its earlier runs (newest first)."""
    attempt = len(records) + 1
    for record in records:
        if record.dagster_run.status in NOT_FINISHED:
            return Decision(
                "in_flight",
                attempt,
                f"run {record.dagster_run.run_id[:8]} is {record.dagster_run.status.value.lower()}",
                record.dagster_run.run_id,
            )
    failures = 0
    for record in records:
        if record.dagster_run.status not in FAILED:
            break
        failures += 1
    if not failures:
        return Decision("request", attempt)
    last = records[0]
    run_id = last.dagster_run.run_id
    if failures >= max_attempts:
        return Decision(
            "gave_up",
            attempt,
            f"{failures} failed runs in a row (last {run_id[:8]}): fix the cause, then re-execute that run "
            "from the UI (or drop the file again)",
            run_id,
        )
    ended = last.end_time or last.update_timestamp.timestamp()
    wait = ended + backoff_seconds(failures) - now
    if wait > 0:
        return Decision(
            "backoff", attempt, f"run {run_id[:8]} failed; retry {attempt} in {wait:.0f} s", run_id
        )
    return Decision("request", attempt, f"retry after {failures} failed run(s), last {run_id[:8]}", run_id)
