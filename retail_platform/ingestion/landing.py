"""The landing folder: which files are ready, loading them in order, and filing them away afterwards
(``filing``: loaded and duplicate files to ``archive/``, rejected ones to ``rejected/`` with a report).

What holds whatever is dropped (issue 13):

- **Only regular files are read.** Entries are listed with ``lstat`` (``readiness.landing_entries``): a
  symbolic link (even a dangling one), a FIFO, a socket, a device or a directory named like a drop gets a
  ``rejected`` ledger row saying what it is and is moved to ``rejected/``, without being opened. A file that
  cannot be opened (no read permission) is rejected the same way, naming the file; the files beside it load.
- **Never half-written** (``settled``): with no list of files (``retail-platform run``, the full refresh) the
  sensor's rule applies: a temporary name is never loaded, and a file modified less than
  ``settle_seconds`` ago is watched until it has kept its size and mtime that long; one still changing after
  ``3 x settle_seconds`` is left for a later run, with a message. The loader checks again after reading the
  last line (``loader.FileStillChanging``): a file that changed is rolled back and left too.
- **One run per file** (``_Claims``): each file is claimed with a session advisory lock on the warehouse
  before it is touched, and looked at again once claimed; a second run at the same time skips the files the
  first holds, and a file the first filed away meanwhile is simply gone. Two runs never write a spurious
  ``duplicate`` row, nor fail on a move.
- **Processed means processed** (``ledger.seen_file``): a file whose ledger row exists with the same
  identity (device, inode, size, mtime) is still here because it could not be moved (a read-only folder, a
  kill -9 between the commit and the move). The rerun moves it now if it can, or says in one line that it is
  left there; it never loads it again, nor writes another ledger row or archive copy.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, text

from retail_platform.ingestion.filing import file_away, move_problem, private_folder, rejection_report
from retail_platform.ingestion.ledger import SeenFile, note_left_in_landing, seen_file
from retail_platform.ingestion.loader import (
    DEFAULT_MAX_REJECTED_SHARE,
    FileStillChanging,
    LoadResult,
    Progress,
    load_file,
    record_refusal,
)
from retail_platform.ingestion.readiness import Entry, landing_entries, lstat_entry
from retail_platform.settings import PlausibilitySettings

__all__ = [
    "FailedLoad",
    "file_away",
    "load_landing",
    "private_folder",
    "ready_files",
    "rejection_report",
    "settled",
]

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25


@dataclass(frozen=True)
class FailedLoad:
    """A file whose load raised; it is still in the landing folder."""

    file_name: str
    error: str


def ready_files(landing: Path) -> list[Path]:
    """What waits in ``landing``, oldest first: every regular file, and every link, FIFO, ... to be recorded
    (``readiness.landing_entries``); hidden and in-progress names and plain subfolders are left alone."""
    return [entry.path for entry in landing_entries(landing)]


def _default_settle_seconds() -> float:
    from retail_platform.settings import current_settings

    return current_settings().file_drop.settle_seconds


def settled(
    entries: Iterable[Entry],
    settle_seconds: float,
    progress: Progress,
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Entry]:
    """The entries that are complete: a regular file must have kept its size and mtime for
    ``settle_seconds`` (watched for at most ``3 x settle_seconds``); the others are left, with a message."""
    ready: list[Entry] = []
    watched: dict[str, Entry] = {}
    for entry in entries:
        if entry.kind == "file" and clock() - entry.mtime_ns / 1e9 < settle_seconds:
            watched[entry.name] = entry
        else:
            ready.append(entry)
    deadline = clock() + 3 * settle_seconds
    while watched:
        now = clock()
        for name, entry in list(watched.items()):
            current = lstat_entry(entry.path)
            if current is None:
                del watched[name]
            elif current.identity == entry.identity and now - current.mtime_ns / 1e9 >= settle_seconds:
                ready.append(current)
                del watched[name]
            else:
                watched[name] = current or entry
        if not watched or now >= deadline:
            break
        sleep(POLL_SECONDS)
    for entry in watched.values():
        progress(
            f"{entry.name}: left for a later run, still being written ({entry.size:,} bytes, modified "
            f"{max(clock() - entry.mtime_ns / 1e9, 0):.0f} s ago; a file must keep its size and mtime for "
            f"{settle_seconds:g} s)"
        )
    return sorted(ready, key=lambda entry: (entry.mtime_ns, entry.name))


class _Claims:
    """Per-file session advisory locks on one warehouse connection: two runs (two processes, two homes on one
    warehouse) never process the same file at once; the second skips what the first holds."""

    _NAMESPACE = b"retail_platform.landing\0"

    def __init__(self, engine: Engine, landing: Path) -> None:
        self._folder = str(landing.resolve())
        self._conn = engine.connect()

    def _key(self, name: str) -> int:
        digest = hashlib.blake2b(
            self._NAMESPACE + f"{self._folder}\0{name}".encode("utf-8", "surrogateescape"), digest_size=8
        ).digest()
        return int.from_bytes(digest, "big", signed=True)

    def claim(self, name: str) -> bool:
        held = self._conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key(name)})
        taken = bool(held.scalar_one())
        self._conn.commit()
        return taken

    def release(self, name: str) -> None:
        self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key(name)})
        self._conn.commit()

    def close(self) -> None:
        self._conn.close()  # a session lock still held (an error) goes with the session


def load_landing(
    engine: Engine,
    landing: Path,
    archive: Path,
    rejected: Path,
    *,
    files: Iterable[Path] | None = None,
    run_id: str | None = None,
    max_rejected_share: float = DEFAULT_MAX_REJECTED_SHARE,
    progress: Progress | None = None,
    failures: list[FailedLoad] | None = None,
    settle_seconds: float | None = None,
    plausibility: PlausibilitySettings | None = None,
) -> list[LoadResult]:
    """Load every complete file (or the given ones, which the sensor found ready) in order, filing each away
    as soon as it is committed.

    With ``failures`` given, a file whose load raises (a warehouse or infrastructure error: its transaction
    is rolled back and the file stays in the landing folder for a retry) is recorded there and the next file
    is loaded, so that one failing file of a batch does not hold back the others; without, the error
    propagates."""
    progress = progress or log.info
    if files is None:
        wait = _default_settle_seconds() if settle_seconds is None else settle_seconds
        entries = settled(landing_entries(landing), wait, progress)
    else:
        entries = [entry for entry in map(lstat_entry, map(Path, files)) if entry is not None]
    results = []
    claims = _Claims(engine, landing)
    try:
        for entry in entries:
            if not claims.claim(entry.name):
                progress(f"{entry.name}: skipped, another run is loading it")
                continue
            try:
                result = _process(
                    engine,
                    entry,
                    archive,
                    rejected,
                    run_id,
                    max_rejected_share,
                    progress,
                    failures,
                    plausibility,
                )
            finally:
                claims.release(entry.name)
            if result is not None:
                results.append(result)
    finally:
        claims.close()
    return results


def _process(
    engine: Engine,
    claimed: Entry,
    archive: Path,
    rejected: Path,
    run_id: str | None,
    max_rejected_share: float,
    progress: Progress,
    failures: list[FailedLoad] | None,
    plausibility: PlausibilitySettings | None = None,
) -> LoadResult | None:
    """One claimed entry: recognised, refused, or loaded; then filed away. None when nothing was written."""
    entry = lstat_entry(claimed.path)
    if entry is None:
        progress(f"{claimed.name}: no longer in the landing folder (another run filed it away)")
        return None
    with engine.connect() as conn:
        seen = seen_file(conn, entry.name, entry.identity)
    if seen is not None:
        _refile(engine, entry, seen, archive, rejected, progress)
        return None
    try:
        if entry.refusal is not None:
            result = record_refusal(
                engine,
                entry.name,
                entry.refusal,
                file_identity=entry.identity,
                run_id=run_id,
                progress=progress,
            )
        else:
            result = load_file(
                engine,
                entry.path,
                run_id=run_id,
                max_rejected_share=max_rejected_share,
                progress=progress,
                plausibility=plausibility,
            )
    except FileStillChanging as changing:
        progress(str(changing))
        return None
    except Exception as error:
        if failures is None:
            raise
        log.exception("Loading %s failed; it stays in the landing folder", entry.name)
        failures.append(FailedLoad(entry.name, f"{type(error).__name__}: {error}"))
        return None
    _file_away_or_note(engine, entry.path, result, archive, rejected, progress)
    return result


def _file_away_or_note(
    engine: Engine, path: Path, result: LoadResult, archive: Path, rejected: Path, progress: Progress
) -> bool:
    """File a committed load away; when it cannot be moved, one line, and the reason on its ledger row."""
    try:
        file_away(path, result, archive, rejected)
        return True
    except OSError as error:
        problem = move_problem(error)
    where = "archive/" if result.ok else "rejected/"
    progress(
        f"WARNING {result.file_name}: {result.status} (load {result.load_id}) but not moved to {where}: "
        f"{problem}; it stays in the landing folder and later runs recognise it"
    )
    with engine.begin() as conn:
        note_left_in_landing(conn, result.load_id, problem)
    return False


def _refile(
    engine: Engine, entry: Entry, seen: SeenFile, archive: Path, rejected: Path, progress: Progress
) -> None:
    """A file processed before and still here: move it now if possible; never load it again."""
    result = LoadResult(
        file_name=entry.name,
        sha256="(see the ledger row)",
        size_bytes=entry.size,
        status=seen.status,
        load_id=seen.load_id,
        error=seen.error,
        file_identity=entry.identity,
    )
    if seen.left_in_landing is None:  # the first look since a crash between the commit and the move
        progress(f"{entry.name}: already {seen.status} as load {seen.load_id}; filing it away")
    elif not _quietly_movable(entry):
        progress(
            f"{entry.name}: already {seen.status} as load {seen.load_id}; left in the landing folder, "
            f"it cannot be moved ({seen.left_in_landing})"
        )
        return
    if _file_away_or_note(engine, entry.path, result, archive, rejected, progress):
        with engine.begin() as conn:
            note_left_in_landing(conn, seen.load_id, None)


def _quietly_movable(entry: Entry) -> bool:
    """Whether a move may work now (a read-only folder says no without an attempt)."""
    return os.access(entry.path.parent, os.W_OK)
