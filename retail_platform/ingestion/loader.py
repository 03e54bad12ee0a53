"""Loading one file into ``raw.transactions`` exactly once, atomically, with every line accounted for.

The path of a file (SPEC §3):

1. its sha256 is compared with the files already loaded: identical content loads nothing (ledger status
   ``duplicate``, pointing at the first load);
2. otherwise its lines stream through in blocks (an Arrow table of text per block, see ``readers``), and each
   block takes the cheapest of three paths that give the same result:

   - **fast**: the loader types and checks the block itself, vectorized (``_type_block``), and COPYs it
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
reason. Warehouse errors propagate: the file stays where it is and the next run retries it.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import logging
import queue
import struct
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import Connection, Engine, text

from retail_platform.ingestion.columns import CANONICAL_COLUMNS
from retail_platform.ingestion.readers import (
    Export,
    FileRejected,
    file_format,
    read_exports,
)
from retail_platform.warehouse.sql_files import read_sql, run_script

log = logging.getLogger(__name__)

LOAD_LOCK_KEY = 7_311_002
DEFAULT_MAX_REJECTED_SHARE = 0.1
_STAGE_COLUMNS = (
    "export_no, source_row, structural_error, raw_text, invoice_no, stock_code, description, quantity, "
    "invoice_date, unit_price, customer_id, country"
)
# The columns of a typed block's COPY rows, in order (raw.transaction_lines and load_batch alike).
_ROW_COLUMNS = (
    "line_id, source_row, load_id, export_no, invoice_no, stock_code, description, quantity, invoice_date, "
    "unit_price, customer_id, country"
)
_MAX_EXPORT_NO = 32_767  # raw.transaction_lines.export_no is a smallint
_PROGRESS_EVERY = 250_000
# Bulk mode (see _BlockLoader) for files from this size on; smaller ones are not worth a rebuild of indexes.
BULK_LOAD_MIN_BYTES = 16 << 20
_PENDING = "(being computed)"  # the ledger's sha256 until the digest is known

Progress = Callable[[str], None]


@dataclass
class LoadResult:
    """What happened to one file; mirrors its row in ``raw.file_loads``."""

    file_name: str
    sha256: str
    size_bytes: int
    status: str
    load_id: int | None = None
    file_format: str | None = None
    exports: int = 0
    lines_read: int = 0
    lines_loaded: int = 0
    lines_already_present: int = 0
    lines_rejected: int = 0
    error: str | None = None
    duplicate_of: int | None = None
    seconds: float = 0.0
    rejected_samples: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status in ("loaded", "duplicate")

    def as_dict(self) -> dict:
        return asdict(self)


def file_digest(path: Path) -> tuple[str, int]:
    """The file's sha256 (hex) and size."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as stream:
        while block := stream.read(1 << 20):
            digest.update(block)  # releases the GIL: runs beside the load (see load_file)
            size += len(block)
    return digest.hexdigest(), size


def load_file(
    engine: Engine,
    path: Path,
    *,
    run_id: str | None = None,
    max_rejected_share: float = DEFAULT_MAX_REJECTED_SHARE,
    progress: Progress | None = None,
) -> LoadResult:
    """Load ``path`` into the warehouse; never raises for bad input, only for warehouse errors.

    The file's sha256 is computed by a second thread while the load runs: it is needed first only when a file
    of the same size was loaded before (a duplicate has the same size), otherwise only for the ledger row.
    """
    try:
        fmt = file_format(path)
    except FileRejected as rejection:
        fmt, unsupported = None, rejection
    else:
        unsupported = None
    size = path.stat().st_size

    def exports() -> Iterator[Export]:
        if unsupported is not None:
            raise unsupported
        return read_exports(path)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="retail-digest") as pool:
        digest = pool.submit(file_digest, path)
        return load_exports(
            engine,
            path.name,
            exports,
            fingerprint=lambda: digest.result()[0],
            size_bytes=size,
            source_format=fmt,
            run_id=run_id,
            max_rejected_share=max_rejected_share,
            progress=progress,
        )


def load_exports(
    engine: Engine,
    name: str,
    exports: Callable[[], Iterator[Export]],
    *,
    fingerprint: str | Callable[[], str],
    size_bytes: int,
    source_format: str | None,
    run_id: str | None = None,
    max_rejected_share: float = DEFAULT_MAX_REJECTED_SHARE,
    progress: Progress | None = None,
) -> LoadResult:
    """Load rows from any source (a file, an extract of the shop's database) under the same exactly-once
    identity, atomically, with a ledger row named ``name``. ``fingerprint`` (a sha256 of the content) lets
    an identical source be recognised as a duplicate without reading it; a callable is asked for it only when
    a source of the same size was loaded before, or at the end for the ledger. ``exports`` is called at most
    once."""
    progress = progress or log.info
    started = datetime.now(UTC)
    clock = time.perf_counter()
    pending = fingerprint if callable(fingerprint) else None
    result = LoadResult(
        file_name=name,
        sha256=_PENDING if pending else fingerprint,
        size_bytes=size_bytes,
        status="loaded",
        file_format=source_format,
    )

    def resolve_fingerprint() -> None:
        if pending is not None and result.sha256 == _PENDING:
            result.sha256 = pending()

    try:
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOAD_LOCK_KEY})
            conn.execute(text("SET LOCAL DateStyle = 'ISO, YMD'"))
            conn.execute(text("SET LOCAL work_mem = '128MB'"))
            if pending is not None and _same_size_loaded(conn, size_bytes):
                resolve_fingerprint()
            if result.sha256 == _PENDING or not _record_duplicate(conn, result, started, run_id):
                _load_new(conn, name, exports, result, started, run_id, max_rejected_share, progress)
                resolve_fingerprint()
                _update_ledger(conn, result)
    except FileRejected as rejection:
        resolve_fingerprint()
        result.status = "rejected"
        result.error = str(rejection)
        result.lines_read = result.lines_rejected = rejection.lines
        result.lines_loaded = result.lines_already_present = 0
        with engine.begin() as conn:
            result.load_id = _insert_ledger(conn, result, started, run_id)
    result.seconds = time.perf_counter() - clock
    progress(
        f"{name}: {result.status}; read {result.lines_read:,}, loaded {result.lines_loaded:,}, "
        f"already present {result.lines_already_present:,}, rejected {result.lines_rejected:,} "
        f"({result.seconds:.1f} s)" + (f" - {result.error}" if result.error else "")
    )
    return result


def _same_size_loaded(conn: Connection, size_bytes: int) -> bool:
    return conn.execute(
        text("SELECT EXISTS (SELECT 1 FROM raw.file_loads WHERE size_bytes = :size AND status = 'loaded')"),
        {"size": size_bytes},
    ).scalar_one()


def _record_duplicate(conn: Connection, result: LoadResult, started: datetime, run_id: str | None) -> bool:
    """Identical bytes were loaded before: record a ``duplicate`` that loads nothing, and say so."""
    previous = conn.execute(
        text(
            "SELECT load_id, file_name, lines_read, lines_rejected, exports FROM raw.file_loads "
            "WHERE sha256 = :sha AND status = 'loaded' ORDER BY load_id LIMIT 1"
        ),
        {"sha": result.sha256},
    ).one_or_none()
    if previous is None:
        return False
    result.status = "duplicate"
    result.duplicate_of = previous.load_id
    result.exports = previous.exports
    result.lines_read = previous.lines_read
    result.lines_rejected = previous.lines_rejected
    result.lines_already_present = previous.lines_read - previous.lines_rejected
    result.error = (
        f"same content (sha256 {result.sha256[:12]}...) as {previous.file_name}, load {previous.load_id}: "
        "every line is already present; its rejected lines are listed under that load"
    )
    result.load_id = _insert_ledger(conn, result, started, run_id)
    return True


# Errors of a reader that mean "this file cannot be read", as opposed to warehouse errors.
_READ_ERRORS = (
    OSError,
    EOFError,
    UnicodeError,
    ValueError,
    csv.Error,
    zlib.error,
    zipfile.BadZipFile,
    SyntaxError,  # XML ParseError of a corrupt workbook sheet
    pa.ArrowException,
)


def _load_new(
    conn: Connection,
    name: str,
    exports: Callable[[], Iterator[Export]],
    result: LoadResult,
    started: datetime,
    run_id: str | None,
    max_rejected_share: float,
    progress: Progress,
) -> None:
    result.load_id = _insert_ledger(conn, result, started, run_id)
    run_script(conn, read_sql("ingestion/01_create_stage.sql"))
    blocks = _BlockLoader(conn, name, result.load_id, progress, result.size_bytes)
    try:
        export_iterator = exports()
        while True:
            export = next(export_iterator, None)
            if export is None:
                break
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
    result.rejected_samples = _rejected_samples(conn, result.load_id)
    if result.lines_read and result.lines_rejected / result.lines_read > max_rejected_share:
        result.status = "rejected"
        result.error = (
            f"{result.lines_rejected:,} of {result.lines_read:,} lines are invalid "
            f"({result.lines_rejected / result.lines_read:.0%}, above the {max_rejected_share:.0%} limit); "
            f"first: row {result.rejected_samples[0]['source_row']}: {result.rejected_samples[0]['reason']}"
        )
        if blocks.lines_loaded:  # nothing of a rejected file stays; its rejected lines stay listed
            conn.execute(
                text("DELETE FROM raw.transaction_lines WHERE load_id = :id"), {"id": result.load_id}
            )
        result.lines_rejected = result.lines_read
    else:
        result.lines_loaded = blocks.lines_loaded
        result.lines_already_present = result.lines_read - result.lines_rejected - blocks.lines_loaded
        if result.lines_rejected:
            result.error = f"{result.lines_rejected:,} invalid lines kept in raw.rejected_lines"


# --- the blocks of an export -----------------------------------------------------------------------------


class _BlockLoader:
    """Loads the blocks of every export of one file, on the file's transaction (see the module docstring)."""

    def __init__(
        self, conn: Connection, name: str, load_id: int, progress: Progress, size_bytes: int = 0
    ) -> None:
        self.conn = conn
        self.pg: psycopg.Connection = conn.connection.driver_connection
        self.name = name
        self.load_id = load_id
        self.progress = progress
        self.size_bytes = size_bytes
        self.export_names: list[str] = []
        self.lines_read = self.lines_rejected = self.lines_loaded = 0
        self._reported = 0
        self._frozen = False  # bulk mode: this load emptied raw.transaction_lines, so COPY FREEZE
        self._dropped_indexes: list[str] = []  # bulk mode: the definitions of the indexes to build again
        self._unsummarized = True  # lines may sit in BRIN ranges not yet summarized

    def load_export(self, export: Export) -> None:
        export_no = len(self.export_names)
        if export_no > _MAX_EXPORT_NO:
            raise FileRejected(f"more than {_MAX_EXPORT_NO + 1:,} sheets: not an export of transactions")
        self.export_names.append(export.name)
        self.conn.execute(
            text(
                "INSERT INTO raw.file_exports (load_id, export_no, export_name)"
                " VALUES (:load_id, :export_no, :export_name)"
            ),
            {"load_id": self.load_id, "export_no": export_no, "export_name": export.name},
        )
        self.pg.execute("TRUNCATE load_present")
        # The first export into an empty warehouse: no line of another export can be present, so every block
        # without suspects is COPYed as it is, without asking the warehouse.
        alone = (
            export_no == 0
            and not self.pg.execute("SELECT EXISTS (SELECT 1 FROM raw.transaction_lines)").fetchone()[0]
        )
        blocks = _invoice_aligned(export.text_batches())
        prepared = _prepared_blocks(blocks, self.load_id, export_no, first_position=self.lines_read)
        if export.batches is not None:  # file readers: read and type the next blocks while this one loads
            prepared = _prefetched(prepared)
            if alone and self.size_bytes >= BULK_LOAD_MIN_BYTES:
                self._start_bulk()
        try:
            for block, typed, suspects, first_line_id in prepared:
                self.lines_read += block.num_rows
                if typed is None:
                    loaded = self._checked_stage(export_no, block, first_line_id)
                elif suspects or (not alone and self._overlaps(export_no, typed)):
                    loaded = self._typed_stage(export_no, typed.rows)
                else:
                    loaded = self._copy(typed.rows)
                self.lines_loaded += loaded
                if self.lines_read - self._reported >= _PROGRESS_EVERY:
                    self._reported = self.lines_read
                    self.progress(
                        f"{self.name}: {self.lines_read:,} lines read, {self.lines_loaded:,} loaded"
                    )
        finally:
            close = getattr(prepared, "close", None)
            if close is not None:
                close()
        self._end_bulk()

    def _start_bulk(self) -> None:
        """Bulk mode, for a big first file into an empty raw.transaction_lines: the table is truncated in this
        transaction, so its blocks are COPYed frozen (no later VACUUM pass to mark them visible) and, on a
        server with ``wal_level = minimal`` such as the embedded one, without WAL (the files are synced at
        commit instead). It takes an exclusive lock on the empty table until the commit; a reader holding
        the table (an analyst's open transaction) must not stall the load, so after 2 s the load goes on
        without bulk mode."""
        self.pg.execute("SAVEPOINT load_bulk")
        try:
            self.pg.execute("SET LOCAL lock_timeout = '2s'")
            self.pg.execute("LOCK TABLE raw.transaction_lines IN ACCESS EXCLUSIVE MODE")
            self.pg.execute("SET LOCAL lock_timeout TO DEFAULT")
            if self.pg.execute("SELECT EXISTS (SELECT 1 FROM raw.transaction_lines)").fetchone()[0]:
                self.pg.execute("RELEASE SAVEPOINT load_bulk")
                return
            self.pg.execute("TRUNCATE raw.transaction_lines")
            indexes = self.pg.execute(
                "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index"
                " WHERE indrelid = 'raw.transaction_lines'::regclass"
            ).fetchall()
            for name, _ in indexes:
                self.pg.execute(f"DROP INDEX {name}")
        except (psycopg.errors.LockNotAvailable, psycopg.errors.DependentObjectsStillExist):
            # the table is busy, or a constraint relies on one of its indexes: block by block then
            self.pg.execute("ROLLBACK TO SAVEPOINT load_bulk")
            self.pg.execute("SET LOCAL lock_timeout TO DEFAULT")
            return
        self.pg.execute("RELEASE SAVEPOINT load_bulk")
        self._frozen = True
        self._dropped_indexes = [definition for _, definition in indexes]
        self.progress(f"{self.name}: bulk load into the empty raw.transactions, its index built at the end")

    def _end_bulk(self) -> None:
        """Build the indexes bulk mode dropped: at the end of the export, or before the first block that
        reads through them (a block compared with the lines loaded so far)."""
        definitions, self._dropped_indexes = self._dropped_indexes, []
        for definition in definitions:
            self.pg.execute(definition)

    def _copy(self, rows: memoryview) -> int:
        freeze = ", FREEZE" if self._frozen else ""
        with self.pg.cursor() as cursor:
            with cursor.copy(
                f"COPY raw.transaction_lines ({_ROW_COLUMNS}) FROM STDIN (FORMAT binary{freeze})"
            ) as copy:
                _write_binary(copy, rows)
            self._unsummarized = True
            return cursor.rowcount

    def _summarize(self) -> None:
        """Summarize the BRIN ranges written since the last look (the index skips a summarized range whose dates
        are not wanted; an unsummarized one is always read): a few new pages per block, once."""
        self._end_bulk()
        if self._unsummarized:
            self.pg.execute(
                "SELECT brin_summarize_new_values('raw.transaction_lines_invoice_date'::regclass)"
            )
            self._unsummarized = False

    def _overlaps(self, export_no: int, typed: _Typed) -> bool:
        """Whether the warehouse holds lines of other exports on the block's dates."""
        self._summarize()
        return self.conn.execute(
            text(read_sql("ingestion/07_block_overlaps.sql")),
            {
                "first_date": typed.first_date,
                "last_date": typed.last_date,
                "load_id": self.load_id,
                "export_no": export_no,
            },
        ).scalar_one()

    def _typed_stage(self, export_no: int, rows: memoryview) -> int:
        self.pg.execute("TRUNCATE load_batch")
        with (
            self.pg.cursor() as cursor,
            cursor.copy(f"COPY load_batch ({_ROW_COLUMNS}) FROM STDIN (FORMAT binary)") as copy,
        ):
            _write_binary(copy, rows)
        return self._insert_batch(export_no)

    def _insert_batch(self, export_no: int) -> int:
        """Insert load_batch exactly once; the number of lines loaded (the others were present)."""
        self._summarize()
        row = self.conn.execute(
            text(read_sql("ingestion/06_insert_transactions.sql")),
            {"load_id": self.load_id, "export_no": export_no},
        ).one()
        if row.lines_loaded:
            self._unsummarized = True
        return row.lines_loaded

    def _checked_stage(self, export_no: int, block: pa.Table, first_line_id: int) -> int:
        """Type and check a block in SQL: its bad lines are rejected with reasons, the good ones inserted."""
        self.pg.execute("TRUNCATE load_stage")
        stage = block.add_column(0, "export_no", pa.repeat(pa.scalar(export_no, pa.int32()), block.num_rows))
        with (
            self.pg.cursor() as cursor,
            cursor.copy(f"COPY load_stage ({_STAGE_COLUMNS}) FROM STDIN (FORMAT csv)") as copy,
        ):
            copy.write(_csv_bytes(stage))
        run_script(self.conn, read_sql("ingestion/02_check_stage.sql"))
        counts = self.conn.execute(text(read_sql("ingestion/03_count_stage.sql"))).one()
        self.lines_rejected += counts.lines_rejected
        if counts.lines_rejected:
            self.conn.execute(
                text(read_sql("ingestion/04_insert_rejected_lines.sql")),
                {"load_id": self.load_id, "file_name": self.name, "export_names": self.export_names},
            )
        self.pg.execute("TRUNCATE load_batch")
        self.conn.execute(
            text(read_sql("ingestion/05_batch_checked_lines.sql")),
            {"load_id": self.load_id, "export_no": export_no, "first_line_id": first_line_id},
        )
        return self._insert_batch(export_no)


def _write_binary(copy: psycopg.Copy, rows: memoryview) -> None:
    copy.write(_COPY_HEADER)
    copy.write(rows)
    copy.write(_COPY_TRAILER)


def _csv_bytes(table: pa.Table) -> bytes:
    """A table as CSV for COPY: strings quoted, NULL as an empty unquoted field."""
    sink = io.BytesIO()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    return sink.getvalue()


def _invoice_aligned(blocks: Iterator[pa.Table]) -> Iterator[pa.Table]:
    """The same lines, with each block's trailing invoice moved to the next block.

    Identical lines share their invoice, and exports list an invoice's lines together: aligned blocks keep
    the copies of a line in one block, where the fast path numbers them.
    """
    carry: pa.Table | None = None
    for block in blocks:
        if carry is not None:
            block = pa.concat_tables([carry, block])
            carry = None
        rows = block.num_rows
        if not rows:
            continue
        invoices = block.column("invoice_no")
        last = invoices[rows - 1]
        if last.is_valid:
            same = pc.fill_null(pc.equal(invoices, last), False).to_numpy(zero_copy_only=False)
            others = np.flatnonzero(~same)
            cut = int(others[-1]) + 1 if len(others) else rows
            if cut < rows:
                carry = block.slice(cut)
                block = block.slice(0, cut)
        yield block
    if carry is not None:
        yield carry


_DONE = object()


def _prefetched(items: Iterator, depth: int = 1) -> Iterator:
    """``items`` produced by a worker thread, at most ``depth`` ahead: reading, parsing and hashing the next
    blocks (Arrow and md5 release the GIL or run while the main thread waits on the server) overlaps with
    PostgreSQL writing the current one. Exceptions reach the consumer; closing it stops the worker."""
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def work() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        handoff.put((item, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            handoff.put((_DONE, None))
        except BaseException as error:  # handed to the consumer, raised there
            handoff.put((_DONE, error))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    def consume() -> Iterator:
        worker = threading.Thread(target=work, name="retail-load-reader", daemon=True)
        worker.start()
        try:
            while True:
                item, error = handoff.get()
                if error is not None:
                    raise error
                if item is _DONE:
                    return
                yield item
        finally:
            stop.set()
            while worker.is_alive():
                with contextlib.suppress(queue.Empty):
                    handoff.get(timeout=0.1)
            worker.join()

    return consume()


# --- typing a block in Python (the fast path) ------------------------------------------------------------
#
# A block is typed here only when every value is in one of the plain spellings below, whose canonical form is
# known exactly; anything else (another spelling PostgreSQL's checks accept, or a bad value) sends the whole
# block to the SQL checks, so that both paths always give the same values.

_NOT_BLANK = r"[^ ]"  # SQL's trim() removes spaces only
_INTEGER = r"^-?[0-9]{1,9}$"
_CUSTOMER = r"^-?[0-9]{1,9}(\.0+)?$"
_PRICE = r"^-?[0-9]{1,15}(\.[0-9]{1,12})?$"
_TIMESTAMP = r"^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"
_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int16)
_NULL = pa.scalar(None, pa.string())


@dataclass(frozen=True)
class _Typed:
    """A block typed by the loader: binary COPY rows of raw.transaction_lines, and its first and last date."""

    rows: memoryview  # binary COPY rows, without the header and trailer
    first_date: str
    last_date: str


class _Prepared(NamedTuple):
    block: pa.Table
    typed: _Typed | None  # None: the SQL checks type the block
    suspects: bool  # an invoice of the block was in an earlier block of the export
    first_line_id: int


def _prepared_blocks(
    blocks: Iterator[pa.Table], load_id: int, export_no: int, first_position: int
) -> Iterator[_Prepared]:
    """The blocks of an export, typed where the loader can, with their suspects (invoices also found in
    earlier blocks, whose lines may have identical copies there) and the line_id of their first line:
    ``load_id * 2^32`` plus the line's position among the lines the load read."""
    seen_invoices: set[str] = set()
    position = first_position
    for block in blocks:
        invoices = set(pc.unique(block.column("invoice_no")).drop_null().to_pylist())
        suspects = not invoices.isdisjoint(seen_invoices)
        seen_invoices |= invoices
        first_line_id = (load_id << 32) + position
        try:
            typed = _type_block(block, load_id, export_no, first_line_id)
        except (
            pa.ArrowException,
            ValueError,
            OverflowError,
        ):  # a value this code did not foresee: SQL decides
            typed = None
        yield _Prepared(block, typed, suspects, first_line_id)
        position += block.num_rows


def _matches(values: pa.Array, pattern: str) -> bool:
    mask = pc.match_substring_regex(values, pattern)
    return mask.null_count == 0 and pc.all(mask).as_py() is not False


def _any(mask: pa.Array) -> bool:
    return bool(pc.any(mask).as_py())


class _Column:
    """One column of a block, dictionary-encoded: values are checked and rewritten once per distinct value
    (a block of 90,000 lines has a few thousand descriptions, prices, dates), then expanded."""

    def __init__(self, values: pa.ChunkedArray) -> None:
        encoded = pc.dictionary_encode(values.combine_chunks())
        self.values: pa.Array = encoded.dictionary
        self.indices: pa.Array = encoded.indices
        self.has_nulls = encoded.null_count > 0

    def expand(self, values: pa.Array, null: str | None = None) -> pa.Array:
        """``values`` (one per distinct value) for every line; missing ones as ``null``."""
        expanded = values.take(self.indices)
        return pc.fill_null(expanded, null) if null is not None and expanded.null_count else expanded


def _type_block(block: pa.Table, load_id: int, export_no: int, first_line_id: int) -> _Typed | None:
    """The block as rows of a binary COPY into raw.transaction_lines (line ids from ``first_line_id``); None
    when a value is not in a plain spelling (the SQL checks then decide).

    Binary, because PostgreSQL then reads the values as they are stored: parsing timestamps and numbers from
    text is a third of a text COPY's work. Each field is built once per distinct value and expanded."""
    rows = block.num_rows
    if not rows or block.column("structural_error").null_count != rows:
        return None
    invoice, stock, description, quantity, date, price, customer, country = (
        _Column(block.column(name)) for name in CANONICAL_COLUMNS
    )
    columns = (invoice, stock, description, quantity, date, price, customer, country)
    if any(column.has_nulls for column in columns if column is not description and column is not customer):
        return None
    if any(_any(pc.match_substring(column.values, "\x00")) for column in columns):
        return None
    if not all(_matches(column.values, _NOT_BLANK) for column in (invoice, stock, country)):
        return None
    # customer: '' (a guest) is NULL; description: '' is NULL
    customer_values = pc.if_else(pc.equal(customer.values, ""), _NULL, customer.values)
    description_values = pc.if_else(pc.equal(description.values, ""), _NULL, description.values)
    if not (
        _matches(quantity.values, _INTEGER)
        and _matches(date.values, _TIMESTAMP)
        and _matches(price.values, _PRICE)
        and pc.all(
            pc.or_kleene(pc.is_null(customer_values), pc.match_substring_regex(customer_values, _CUSTOMER))
        ).as_py()
        and _valid_timestamps(date.values)
    ):
        return None
    dates = pc.min_max(date.values)

    if _any(pc.match_substring(customer_values, ".")):
        customer_values = pc.replace_substring_regex(customer_values, r"\.0+$", "")
    moments = pc.cast(pc.strptime(date.values, format="%Y-%m-%d %H:%M:%S", unit="us"), pa.int64())
    prefix = np.empty(rows, dtype=_ROW_PREFIX)
    prefix["fields"] = len(CANONICAL_COLUMNS) + 4
    prefix["line_id_size"] = prefix["source_row_size"] = prefix["load_id_size"] = 8
    prefix["line_id"] = np.arange(first_line_id, first_line_id + rows, dtype=np.int64)
    prefix["source_row"] = block.column("source_row").to_numpy()
    prefix["load_id"] = load_id
    prefix["export_no_size"] = 2
    prefix["export_no"] = export_no
    copy_rows = pc.binary_join_element_wise(
        _fixed_size(prefix),
        invoice.expand(_text_fields(invoice.values)),
        stock.expand(_text_fields(stock.values)),
        description.expand(_text_fields(description_values), null=_NULL_FIELD),
        quantity.expand(_number_fields(pc.cast(quantity.values, pa.int32()), ">i4")),
        date.expand(_number_fields(pc.subtract(moments, _PG_EPOCH_US), ">i8")),
        price.expand(_numeric_fields(_canonical_decimal(price.values))),
        customer.expand(_number_fields(pc.cast(customer_values, pa.int32()), ">i4"), null=_NULL_FIELD),
        country.expand(_text_fields(country.values)),
        b"",
    )
    return _Typed(_string_data(copy_rows), dates["min"].as_py(), dates["max"].as_py())


# --- binary COPY fields (PostgreSQL's send/recv formats) ---------------------------------------------------

_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, header extension length
_COPY_TRAILER = b"\xff\xff"
_NULL_FIELD = b"\xff\xff\xff\xff"  # field length -1
_PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01, PostgreSQL's zero for timestamps, in Unix microseconds
_ROW_PREFIX = np.dtype(  # field count, then line_id, source_row, load_id (int8) and export_no (int2)
    [
        ("fields", ">i2"),
        ("line_id_size", ">i4"),
        ("line_id", ">i8"),
        ("source_row_size", ">i4"),
        ("source_row", ">i8"),
        ("load_id_size", ">i4"),
        ("load_id", ">i8"),
        ("export_no_size", ">i4"),
        ("export_no", ">i2"),
    ]
)


def _fixed_size(records: np.ndarray) -> pa.Array:
    """Records of a numpy structured array as a binary array, one record per value."""
    size = records.dtype.itemsize
    offsets = np.arange(0, size * (len(records) + 1), size, dtype=np.int32)
    return pa.Array.from_buffers(
        pa.binary(), len(records), [None, pa.py_buffer(offsets), pa.py_buffer(records.tobytes())]
    )


def _number_fields(values: pa.Array, dtype: str) -> pa.Array:
    """Integers as binary fields: their size, then the big-endian value; NULL stays NULL."""
    width = np.dtype(dtype).itemsize
    records = np.empty(len(values), dtype=[("size", ">i4"), ("value", dtype)])
    records["size"] = width
    records["value"] = pc.fill_null(values, 0).to_numpy()
    fields = _fixed_size(records)
    return (
        pc.if_else(pc.is_null(values), pa.scalar(None, pa.binary()), fields) if values.null_count else fields
    )


def _text_fields(values: pa.Array) -> pa.Array:
    """Text as binary fields: the size in bytes, then the UTF-8 bytes; NULL stays NULL."""
    sizes = np.empty(len(values), dtype=[("size", ">i4")])
    sizes["size"] = pc.fill_null(pc.binary_length(values), 0).to_numpy()
    return pc.binary_join_element_wise(_fixed_size(sizes), values.cast(pa.binary()), b"")


def _numeric_fields(prices: pa.Array) -> pa.Array:
    """Plain decimals (canonical text, see ``_canonical_decimal``) as binary numeric fields: digit count,
    weight, sign and display scale (int2 each), then the base-10000 digits."""
    return pa.array([_numeric_field(price) for price in prices.to_pylist()], pa.binary())


def _numeric_field(text: str) -> bytes:
    negative = text.startswith("-")
    whole, _, fraction = text.lstrip("-").partition(".")
    digits = whole.zfill(-(-len(whole) // 4) * 4) + fraction.ljust(-(-len(fraction) // 4) * 4, "0")
    groups = [int(digits[start : start + 4]) for start in range(0, len(digits), 4)]
    weight = -(-len(whole) // 4) - 1
    while groups and groups[0] == 0:
        groups.pop(0)
        weight -= 1
    while groups and groups[-1] == 0:
        groups.pop()
    if not groups:
        weight = 0
    header = struct.pack(">hhHh", len(groups), weight, 0x4000 if negative and groups else 0, len(fraction))
    body = header + struct.pack(f">{len(groups)}h", *groups)
    return struct.pack(">i", len(body)) + body


def _valid_timestamps(dates: pa.Array) -> bool:
    """Every ``YYYY-MM-DD HH:MI:SS`` (19 characters each, checked before) is a real moment: no 2010-02-30,
    no 24:00, as the SQL checks demand."""
    if not len(dates):
        return True
    digits = np.frombuffer(_string_data(dates), dtype=np.uint8).reshape(len(dates), 19).astype(np.int16) - 48

    def number(start: int, stop: int) -> np.ndarray:
        value = np.zeros(len(dates), dtype=np.int16)
        for position in range(start, stop):
            value = value * 10 + digits[:, position]
        return value

    year, month, day = number(0, 4), number(5, 7), number(8, 10)
    if not ((month >= 1) & (month <= 12)).all():
        return False
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    last_day = _DAYS[month] + ((month == 2) & leap)
    return bool(
        ((day >= 1) & (day <= last_day)).all()
        and (number(11, 13) < 24).all()
        and (number(14, 16) < 60).all()
        and (number(17, 19) < 60).all()
    )


def _canonical_decimal(price: pa.Array) -> pa.Array:
    """Plain decimals as PostgreSQL prints ``trim_scale(value::numeric)``: '2.10' -> '2.1', '18.0' -> '18',
    '007.5' -> '7.5', '-0.0' -> '0'."""
    if _any(pc.match_substring_regex(price, r"^-?0[0-9]")):
        price = pc.replace_substring_regex(price, r"^(-?)0+([0-9])", r"\1\2")
    if _any(pc.match_substring(price, ".")):
        price = pc.replace_substring_regex(price, r"(\.[0-9]*[1-9])0+$", r"\1")
        price = pc.replace_substring_regex(price, r"\.0+$", "")
    if _any(pc.equal(price, "-0")):
        price = pc.if_else(pc.equal(price, "-0"), "0", price)
    return price


def _string_data(values: pa.Array) -> memoryview:
    """The concatenated bytes of a string array's values, without a copy (the view keeps them alive)."""
    offsets = np.frombuffer(
        values.buffers()[1], dtype=np.int32, count=len(values) + 1, offset=values.offset * 4
    )
    return memoryview(values.buffers()[2][offsets[0] : offsets[-1]])


# --- the ledger ------------------------------------------------------------------------------------------


def _insert_ledger(conn: Connection, result: LoadResult, started: datetime, run_id: str | None) -> int:
    return conn.execute(
        text(
            "INSERT INTO raw.file_loads (file_name, sha256, size_bytes, file_format, exports, lines_read,"
            " lines_loaded, lines_already_present, lines_rejected, status, error, duplicate_of, run_id,"
            " started_at) VALUES (:file_name, :sha256, :size_bytes, :file_format, :exports, :lines_read,"
            " :lines_loaded, :lines_already_present, :lines_rejected, :status, :error, :duplicate_of,"
            " :run_id, :started_at) RETURNING load_id"
        ),
        {**_ledger_values(result), "run_id": run_id, "started_at": started},
    ).scalar_one()


def _update_ledger(conn: Connection, result: LoadResult) -> None:
    conn.execute(
        text(
            "UPDATE raw.file_loads SET sha256 = :sha256, exports = :exports, lines_read = :lines_read,"
            " lines_loaded = :lines_loaded, lines_already_present = :lines_already_present,"
            " lines_rejected = :lines_rejected, status = :status, error = :error,"
            " finished_at = clock_timestamp() WHERE load_id = :load_id"
        ),
        {**_ledger_values(result), "load_id": result.load_id},
    )


def _ledger_values(result: LoadResult) -> dict:
    keys = (
        "file_name",
        "sha256",
        "size_bytes",
        "file_format",
        "exports",
        "lines_read",
        "lines_loaded",
        "lines_already_present",
        "lines_rejected",
        "status",
        "error",
        "duplicate_of",
    )
    return {key: getattr(result, key) for key in keys}


def _rejected_samples(conn: Connection, load_id: int | None, limit: int = 20) -> list[dict]:
    rows = conn.execute(
        text(
            "SELECT source_export, source_row, column_name, reason, raw_text FROM raw.rejected_lines"
            " WHERE load_id = :load_id ORDER BY source_export, source_row LIMIT :limit"
        ),
        {"load_id": load_id, "limit": limit},
    ).mappings()
    return [dict(row) for row in rows]
