"""Loading one file into ``raw.transactions`` exactly once, atomically, with every line accounted for.

The path of a file (SPEC §3):

1. its sha256 is compared with the files already loaded: identical content loads nothing (ledger status
   ``duplicate``, pointing at the first load);
2. otherwise its lines stream through in blocks (an Arrow table of text per block, see ``readers``), and each
   block takes the cheapest of three paths that give the same result:

   - **fast**: the loader types and checks the block itself, vectorized (``typed_blocks``), and COPYs it
     straight into ``raw.transaction_lines`` (the storage of the ``raw.transactions`` view) when none of its
     lines can be there already: the warehouse holds no line of another export on the block's dates
     (identical lines share their invoice date; a BRIN index answers, ``sql/ingestion/07_block_overlaps.sql``),
     and no invoice of the block appeared in an earlier block of the export. The first export into an empty
     warehouse does not even ask;
   - **typed stage**: otherwise the typed block is COPYed into a temporary table and inserted with one
     set-based statement that counts identical copies, in the warehouse and in the export's earlier blocks,
     and inserts only the copies beyond them (``sql/ingestion/06_insert_transactions.sql``);
   - **checked stage**: a block with a value the loader does not type itself (an unusual spelling such as
     ``1e-05`` or ``12/1/2010 8:26``, or a bad line) goes through the set-based SQL checks as text
     (``sql/ingestion/02_check_stage.sql``): bad lines go to ``raw.rejected_lines`` with their reasons, good
     ones are inserted as in the typed stage.

   Blocks end at an invoice boundary, so identical lines (same invoice) rarely straddle two blocks;
3. when the rejected lines exceed ``max_rejected_share`` of the file the whole file is rejected: its lines
   are removed again, the rejected ones stay listed;
4. the ledger row in ``raw.file_loads`` is written in the same transaction. Only one load runs at a time
   (an advisory lock), so two processes never race on line identity.

Any failure before the commit leaves nothing behind. Files that cannot be read as a table are rejected with a
reason; so are files that cannot be opened at all (no read permission) and anything that is not a regular file
(a symbolic link, a FIFO, ...), which are never read: the file is opened with ``O_NOFOLLOW | O_NONBLOCK`` and
checked with ``fstat`` first. A file that changes while it is read (a writer still appending) raises
``FileStillChanging`` before the commit: nothing is kept and the file waits for a later run. Warehouse errors
propagate: the file stays where it is and the next run retries it.

This module orchestrates a file's load; the parts live beside it: ``readers`` (files to blocks of text),
``typed_blocks`` (vectorized typing), ``pgcopy`` (PostgreSQL's binary COPY format), ``blocks`` (the three
paths and bulk mode), ``streams`` (invoice alignment, read-ahead) and ``ledger`` (``raw.file_loads``).
"""

from __future__ import annotations

import contextlib
import csv
import errno
import hashlib
import logging
import os
import stat
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
from sqlalchemy import Connection, Engine, text

from retail_platform.ingestion.blocks import BlockLoader, Progress, keep_rejected_file
from retail_platform.ingestion.columns import LoadBounds
from retail_platform.ingestion.ledger import (
    LoadResult,
    insert_load,
    record_duplicate,
    rejected_samples,
    same_size_loaded,
    update_load,
)
from retail_platform.ingestion.readers import Export, FileRejected, file_format, read_exports
from retail_platform.ingestion.readiness import Entry, entry_kind, lstat_entry
from retail_platform.settings import PlausibilitySettings
from retail_platform.warehouse.sql_files import read_sql, run_script

__all__ = [
    "DEFAULT_MAX_REJECTED_SHARE",
    "LOAD_LOCK_KEY",
    "NOT_READ",
    "FileStillChanging",
    "LoadResult",
    "Progress",
    "file_digest",
    "load_exports",
    "load_file",
    "record_refusal",
]

log = logging.getLogger(__name__)

LOAD_LOCK_KEY = 7_311_002
DEFAULT_MAX_REJECTED_SHARE = 0.1
_PENDING = "(being computed)"  # the ledger's sha256 until the digest is known
NOT_READ = "(not read)"  # the ledger's sha256 of a file that was not (or could not be) read


class FileStillChanging(Exception):
    """The file changed while it was read: a writer is still at it. Nothing of it is kept (the transaction is
    rolled back) and it stays in the landing folder for a later run. Not a ``FileRejected``: the file is
    fine, only not finished."""


# Errors of a reader that mean "this file cannot be read", as opposed to warehouse errors.
_READ_ERRORS = (
    OSError,
    EOFError,
    UnicodeError,
    ValueError,
    csv.Error,
    zlib.error,
    zipfile.BadZipFile,
    pa.ArrowException,
)


def file_digest(path: Path) -> tuple[str, int]:
    """The file's sha256 (hex) and size."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as stream:
        while block := stream.read(1 << 20):
            digest.update(block)  # releases the GIL: runs beside the load (see load_file)
            size += len(block)
    return digest.hexdigest(), size


def _open_check(path: Path) -> tuple[os.stat_result | None, str | None]:
    """Open the file the way no reader would be fooled: without following a link, without blocking on a FIFO;
    its fstat, or why it is not read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        if error.errno == errno.ELOOP:
            return None, Entry(path.name, path, "symbolic link", 0, 0, 0, 0).refusal
        return None, (
            f"cannot open {path.name}: {error.strerror or error} "
            f"[{errno.errorcode.get(error.errno or 0, error.errno)}]; fix its permissions and drop it again"
        )
    try:
        info = os.fstat(fd)
    finally:
        os.close(fd)
    if not stat.S_ISREG(info.st_mode):
        kind = entry_kind(info.st_mode)
        return None, Entry(path.name, path, kind, 0, 0, 0, 0).refusal
    return info, None


def _unchanged(path: Path, before: Entry | None) -> None:
    """Raise ``FileStillChanging`` when the file is not the one the load started on (it grew, was rewritten,
    or replaced by something else)."""
    after = lstat_entry(path)
    if before is not None and (after is None or after.identity != before.identity):
        size = "gone" if after is None else f"{after.size:,} bytes"
        raise FileStillChanging(
            f"{path.name} changed while it was read ({before.size:,} bytes, now {size}): a writer is still at "
            "it; nothing of it was kept and it stays in the landing folder for a later run"
        )


def record_refusal(
    engine: Engine,
    name: str,
    reason: str,
    *,
    size_bytes: int = 0,
    file_identity: str | None = None,
    run_id: str | None = None,
    progress: Progress | None = None,
) -> LoadResult:
    """A ``rejected`` ledger row for a file that is not read at all (not a regular file, no permission)."""
    result = LoadResult(
        file_name=name,
        sha256=NOT_READ,
        size_bytes=size_bytes,
        status="rejected",
        error=reason,
        file_identity=file_identity,
    )
    with engine.begin() as conn:
        result.load_id = insert_load(conn, result, datetime.now(UTC), run_id)
    (progress or log.info)(f"{name}: rejected, not read - {reason}")
    return result


@dataclass(frozen=True)
class LoadOptions:
    """How a load runs, whatever its source (a file, an extract of the shop's database): the Dagster run it is
    part of (for the ledger), the share of invalid lines that rejects the whole source, where progress goes,
    and the plausible dates and magnitudes (``None``: the defaults)."""

    run_id: str | None = None
    max_rejected_share: float = DEFAULT_MAX_REJECTED_SHARE
    progress: Progress = log.info
    plausibility: PlausibilitySettings | None = None


def load_file(
    engine: Engine,
    path: Path,
    *,
    run_id: str | None = None,
    max_rejected_share: float = DEFAULT_MAX_REJECTED_SHARE,
    progress: Progress | None = None,
    plausibility: PlausibilitySettings | None = None,
) -> LoadResult:
    """Load ``path`` into the warehouse; never raises for bad input, only for warehouse errors (and
    ``FileStillChanging`` for a file still being written).

    The file's sha256 is computed by a second thread while the load runs: it is needed first only when a file
    of the same size was loaded before (a duplicate has the same size), otherwise only for the ledger row.
    """
    before = lstat_entry(path)
    identity = before.identity if before is not None else None
    info, refusal = _open_check(path)
    if refusal is not None or info is None:
        size = before.size if before is not None else 0
        return record_refusal(
            engine,
            path.name,
            refusal or "gone",
            size_bytes=size,
            file_identity=identity,
            run_id=run_id,
            progress=progress,
        )
    try:
        fmt = file_format(path)
    except FileRejected as rejection:
        fmt, unsupported = None, rejection
    else:
        unsupported = None

    def exports() -> Iterator[Export]:
        if unsupported is not None:
            raise unsupported
        try:
            yield from read_exports(path)
        except Exception:
            _unchanged(path, before)  # a file cut short by its writer is not bad, only not finished
            raise
        _unchanged(path, before)  # after the last line was read, before the commit

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="retail-digest") as pool:
        digest = pool.submit(file_digest, path)
        options = LoadOptions(run_id, max_rejected_share, progress or log.info, plausibility)
        return load_exports(
            engine,
            path.name,
            exports,
            fingerprint=lambda: digest.result()[0],
            size_bytes=info.st_size,
            source_format=fmt,
            file_identity=identity,
            options=options,
        )


def load_exports(
    engine: Engine,
    name: str,
    exports: Callable[[], Iterator[Export]],
    *,
    fingerprint: str | Callable[[], str],
    size_bytes: int,
    source_format: str | None,
    file_identity: str | None = None,
    options: LoadOptions = LoadOptions(),
) -> LoadResult:
    """Load rows from any source (a file, an extract of the shop's database) under the same exactly-once
    identity, atomically, with a ledger row named ``name``. ``fingerprint`` (a sha256 of the content) lets
    an identical source be recognised as a duplicate without reading it; a callable is asked for it only when
    a source of the same size was loaded before, or at the end for the ledger. ``exports`` is called at most
    once."""
    run_id, progress = options.run_id, options.progress
    started = datetime.now(UTC)
    clock = time.perf_counter()
    pending = fingerprint if callable(fingerprint) else None
    result = LoadResult(
        file_name=name,
        sha256=_PENDING if pending else fingerprint,
        size_bytes=size_bytes,
        status="loaded",
        file_format=source_format,
        file_identity=file_identity,
    )

    def resolve_fingerprint() -> None:
        if pending is not None and result.sha256 == _PENDING:
            try:
                result.sha256 = pending()
            except OSError as error:  # the bytes cannot be read (permissions changed, a disk error)
                result.sha256 = NOT_READ
                raise FileRejected(f"cannot read {name} ({type(error).__name__}): {error}") from error

    try:
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOAD_LOCK_KEY})
            conn.execute(text("SET LOCAL DateStyle = 'ISO, YMD'"))
            conn.execute(text("SET LOCAL work_mem = '128MB'"))
            if pending is not None and same_size_loaded(conn, size_bytes):
                resolve_fingerprint()
            if result.sha256 == _PENDING or not record_duplicate(conn, result, started, run_id):
                _load_new(conn, name, exports, result, started, options)
                resolve_fingerprint()
                update_load(conn, result)
    except FileRejected as rejection:
        with contextlib.suppress(FileRejected):
            resolve_fingerprint()
        result.status = "rejected"
        result.error = str(rejection)
        result.lines_read = result.lines_rejected = rejection.lines
        result.lines_loaded = result.lines_already_present = 0
        with engine.begin() as conn:
            result.load_id = insert_load(conn, result, started, run_id)
            keep_rejected_file(conn, result, rejection)  # every line of a rejected file, with its text
    result.seconds = time.perf_counter() - clock
    progress(
        f"{name}: {result.status}; read {result.lines_read:,}, loaded {result.lines_loaded:,}, "
        f"already present {result.lines_already_present:,}, rejected {result.lines_rejected:,} "
        f"({result.seconds:.1f} s)" + (f" - {result.error}" if result.error else "")
    )
    return result


def _load_new(
    conn: Connection,
    name: str,
    exports: Callable[[], Iterator[Export]],
    result: LoadResult,
    started: datetime,
    options: LoadOptions,
) -> None:
    result.load_id = insert_load(conn, result, started, options.run_id)
    run_script(conn, read_sql("ingestion/01_create_stage.sql"))
    bounds = LoadBounds.at(options.plausibility)
    blocks = BlockLoader(conn, name, result.load_id, options.progress, result.size_bytes, bounds)
    try:
        for export in exports():
            blocks.load_export(export)
    except FileRejected as rejection:
        rejection.lines = max(rejection.lines, blocks.lines_read)
        raise
    except _READ_ERRORS as error:
        raise FileRejected(
            f"cannot read {name} ({type(error).__name__}): {error}", lines=blocks.lines_read
        ) from error
    result.exports = len(blocks.export_names)
    if not blocks.export_names:
        raise FileRejected("no sheet of the workbook has a header row")
    result.lines_read, result.lines_rejected = blocks.lines_read, blocks.lines_rejected
    if not result.lines_read:
        raise FileRejected("no lines: the file has a header but no data lines (an export cut short?)")
    result.rejected_samples = rejected_samples(conn, result.load_id)
    result.months_touched = sorted(blocks.months)
    _settle(conn, result, blocks.lines_loaded, options.max_rejected_share)
    if blocks.notes:  # sheets skipped as not tables of transactions
        result.error = "; ".join([*filter(None, [result.error]), *blocks.notes])


def _settle(conn: Connection, result: LoadResult, lines_loaded: int, max_rejected_share: float) -> None:
    """Accept the file's lines, or reject the whole file when too many of its lines are invalid."""
    if result.lines_rejected / result.lines_read > max_rejected_share:
        result.status = "rejected"
        result.error = (
            f"{result.lines_rejected:,} of {result.lines_read:,} lines are invalid "
            f"({result.lines_rejected / result.lines_read:.0%}, above the {max_rejected_share:.0%} limit); "
            f"first: row {result.rejected_samples[0]['source_row']}: {result.rejected_samples[0]['reason']}"
        )
        if lines_loaded:  # nothing of a rejected file stays; its rejected lines stay listed
            conn.execute(text(read_sql("ingestion/08_remove_rejected_file.sql")), {"load_id": result.load_id})
        result.lines_rejected = result.lines_read
        result.months_touched = []
    else:
        result.lines_loaded = lines_loaded
        result.lines_already_present = result.lines_read - result.lines_rejected - lines_loaded
        if result.lines_rejected:
            first = result.rejected_samples[0] if result.rejected_samples else None
            result.error = f"{result.lines_rejected:,} invalid lines kept in raw.rejected_lines" + (
                f"; first: row {first['source_row']}: {first['reason'][:200]}" if first else ""
            )
