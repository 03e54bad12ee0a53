"""Loading one file into ``raw.transactions`` exactly once, atomically, with every line accounted for.

The path of a file (SPEC §3):

1. its sha256 is compared with the files already loaded: identical content loads nothing (ledger status
   ``duplicate``, pointing at the first load);
2. otherwise its lines stream through in blocks (an Arrow table of text per block, see ``readers``), and each
   block takes the cheapest of three paths that give the same result:

   - **fast**: the loader types and checks the block itself, vectorized (``_type_block``), computes each
     line's identity (the md5 of its canonical values, exactly as PostgreSQL prints them, and its copy number
     in the block) and COPYs the block straight into ``raw.transactions`` under a savepoint. The unique index
     on the line identity is the exactly-once check: when a line of the block is already in the warehouse
     (or an identical line sits in an earlier block of the export), the COPY fails, the savepoint is rolled
     back and the block takes the next path;
   - **typed stage**: the typed block is COPYed into a temporary table and inserted with an anti-join, its
     copy numbers continuing those of the export's earlier blocks (``sql/ingestion/06_insert_transactions.sql``);
   - **checked stage**: a block with a value the loader does not type itself (an unusual spelling such as
     ``1e-05`` or ``12/1/2010 8:26``, or a bad line) goes through the set-based SQL checks as text
     (``sql/ingestion/02_check_stage.sql``): bad lines go to ``raw.rejected_lines`` with their reasons, good
     ones are hashed in SQL and inserted as in the typed stage.

   Blocks end at an invoice boundary, so identical lines (same invoice) rarely straddle two blocks;
3. when the rejected lines exceed ``max_rejected_share`` of the file the whole file is rejected: its lines
   are removed again, the rejected ones stay listed;
4. the ledger row in ``raw.file_loads`` is written in the same transaction. Only one load runs at a time
   (an advisory lock), so two processes never race on line identity.

Any failure before the commit leaves nothing behind. Files that cannot be read as a table are rejected with a
reason. Warehouse errors propagate: the file stays where it is and the next run retries it.
"""

from __future__ import annotations

import binascii
import codecs
import contextlib
import csv
import hashlib
import io
import itertools
import logging
import queue
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

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
    remember_encoding,
)
from retail_platform.warehouse.sql_files import read_sql, run_script

log = logging.getLogger(__name__)

LOAD_LOCK_KEY = 7_311_002
DEFAULT_MAX_REJECTED_SHARE = 0.1
_STAGE_COLUMNS = (
    "export_no, source_row, structural_error, raw_text, invoice_no, stock_code, description, quantity, "
    "invoice_date, unit_price, customer_id, country"
)
# The columns of a typed block, in the order of its CSV (raw.transactions and load_batch alike).
_ROW_COLUMNS = (
    "invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country, "
    "line_hash, occurrence, source_file, source_export, source_row, load_id"
)
_PROGRESS_EVERY = 250_000
# Bulk mode (see _BlockLoader) for files from this size on; smaller ones are not worth a rebuild of indexes.
BULK_LOAD_MIN_BYTES = 16 << 20

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
    sha256, size, _ = _digest_and_encoding(path, check_utf8=False)
    return sha256, size


def _digest_and_encoding(path: Path, check_utf8: bool) -> tuple[str, int, str | None]:
    """The file's sha256 and size, and for a plain CSV file its encoding, found in the same pass over the bytes
    (``utf-8-sig`` when the whole file is valid UTF-8, else ``latin-1``: the rule of ``detect_encoding``)."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = check_utf8
    size = 0
    with open(path, "rb") as stream:
        while block := stream.read(1 << 20):
            digest.update(block)
            size += len(block)
            if utf8 and not (block.isascii() and not decoder.buffer):
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    utf8 = False
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    encoding = ("utf-8-sig" if utf8 else "latin-1") if check_utf8 else None
    return digest.hexdigest(), size, encoding


def load_file(
    engine: Engine,
    path: Path,
    *,
    run_id: str | None = None,
    max_rejected_share: float = DEFAULT_MAX_REJECTED_SHARE,
    progress: Progress | None = None,
) -> LoadResult:
    """Load ``path`` into the warehouse; never raises for bad input, only for warehouse errors."""
    try:
        fmt = file_format(path)
    except FileRejected as rejection:
        fmt, unsupported = None, rejection
    else:
        unsupported = None
    sha256, size, encoding = _digest_and_encoding(path, check_utf8=fmt == "csv")
    if encoding is not None:
        remember_encoding(path, encoding)  # the CSV reader skips its own pass over the file

    def exports() -> Iterator[Export]:
        if unsupported is not None:
            raise unsupported
        return read_exports(path)

    return load_exports(
        engine,
        path.name,
        exports,
        fingerprint=sha256,
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
    fingerprint: str,
    size_bytes: int,
    source_format: str | None,
    run_id: str | None = None,
    max_rejected_share: float = DEFAULT_MAX_REJECTED_SHARE,
    progress: Progress | None = None,
) -> LoadResult:
    """Load rows from any source (a file, an extract of the shop's database) under the same exactly-once
    identity, atomically, with a ledger row named ``name``. ``fingerprint`` (a sha256 of the content) lets
    an identical source be recognised as a duplicate without reading it; ``exports`` is called at most once."""
    progress = progress or log.info
    started = datetime.now(UTC)
    clock = time.perf_counter()
    result = LoadResult(
        file_name=name, sha256=fingerprint, size_bytes=size_bytes, status="loaded", file_format=source_format
    )
    try:
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOAD_LOCK_KEY})
            conn.execute(text("SET LOCAL DateStyle = 'ISO, YMD'"))
            conn.execute(text("SET LOCAL work_mem = '128MB'"))
            if not _record_duplicate(conn, result, started, run_id):
                _load_new(conn, name, exports, result, started, run_id, max_rejected_share, progress)
    except FileRejected as rejection:
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
            conn.execute(text("DELETE FROM raw.transactions WHERE load_id = :id"), {"id": result.load_id})
        result.lines_rejected = result.lines_read
    else:
        result.lines_loaded = blocks.lines_loaded
        result.lines_already_present = result.lines_read - result.lines_rejected - blocks.lines_loaded
        if result.lines_rejected:
            result.error = f"{result.lines_rejected:,} invalid lines kept in raw.rejected_lines"
    _update_ledger(conn, result)


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
        self._dropped_indexes: list[str] | None = None  # bulk mode: the DDL that rebuilds them

    def load_export(self, export: Export) -> None:
        export_no = len(self.export_names)
        self.export_names.append(export.name)
        constants = _Constants(self.name, export.name, self.load_id)
        # Optimistic COPY while the export brings new lines; after a block with lines already in the
        # warehouse (an overlap, a re-export) the next ones go straight to the typed stage until one is new.
        optimistic = True
        seen_invoices: set[str] = set()
        blocks = _invoice_aligned(export.text_batches())
        prepared = (_prepare(block, constants, seen_invoices) for block in blocks)
        if export.batches is not None:  # file readers: read and type the next blocks while this one loads
            prepared = _prefetched(prepared)
            if export_no == 0 and self.size_bytes >= BULK_LOAD_MIN_BYTES:
                self._start_bulk()
        try:
            for block, typed, suspects in prepared:
                self.lines_read += block.num_rows
                if self._dropped_indexes is not None and (typed is None or suspects):
                    self._end_bulk()  # lines that may be in the table already: the identity index decides
                if typed is None:
                    loaded, present = self._checked_stage(export_no, export.name, block, suspects)
                elif self._dropped_indexes is not None:
                    loaded, present = self._copy_bulk(typed), 0
                elif optimistic and self._copy_fast(typed):
                    loaded, present = block.num_rows, 0
                else:
                    loaded, present = self._typed_stage(export_no, export.name, typed, suspects)
                optimistic = present == 0
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
        if self._dropped_indexes is not None:
            self._end_bulk()

    # Bulk mode: the first, big export into an empty raw.transactions is COPYed without its indexes (and
    # frozen, and without WAL when the server runs with wal_level = minimal), which are built afterwards in
    # one sort each: several times cheaper than growing them line by line. It holds while no line can be
    # in the table already: an empty table at the start, and blocks without suspects (identical lines share
    # an invoice, and no invoice of the block was seen before). The first block that breaks this ends bulk
    # mode: the indexes are built there (the unique one checks every identity loaded so far) and the load
    # goes on block by block.

    def _start_bulk(self) -> None:
        self.pg.execute("SAVEPOINT load_bulk")
        try:
            # A reader holding the table (an analyst's open transaction) must not stall the load: then no bulk.
            self.pg.execute("SET LOCAL lock_timeout = '2s'")
            self.pg.execute("LOCK TABLE raw.transactions IN ACCESS EXCLUSIVE MODE")
            self.pg.execute("SET LOCAL lock_timeout TO DEFAULT")
            if self.pg.execute("SELECT EXISTS (SELECT 1 FROM raw.transactions)").fetchone()[0]:
                self.pg.execute("RELEASE SAVEPOINT load_bulk")
                return
            rebuild = []
            indexes = self.pg.execute(read_sql("ingestion/07_transaction_indexes.sql")).fetchall()
            for kind, name, definition in indexes:
                if kind == "constraint":
                    self.pg.execute(f"ALTER TABLE raw.transactions DROP CONSTRAINT {name}")
                    rebuild.append(f"ALTER TABLE raw.transactions ADD CONSTRAINT {name} {definition}")
                else:
                    self.pg.execute(f"DROP INDEX {name}")
                    rebuild.append(definition)
            self.pg.execute("TRUNCATE raw.transactions")  # a new file: COPY FREEZE, no WAL if minimal
        except (psycopg.errors.LockNotAvailable, psycopg.errors.DependentObjectsStillExist):
            # the table is busy, or something relies on one of its indexes: block by block then
            self.pg.execute("ROLLBACK TO SAVEPOINT load_bulk")
            self.pg.execute("SET LOCAL lock_timeout TO DEFAULT")
            return
        self.pg.execute("RELEASE SAVEPOINT load_bulk")
        self._dropped_indexes = rebuild
        self.progress(f"{self.name}: bulk load into the empty raw.transactions, indexes built at the end")

    def _copy_bulk(self, typed: memoryview) -> int:
        with self.pg.cursor() as cursor:
            with cursor.copy(
                f"COPY raw.transactions ({_ROW_COLUMNS}) FROM STDIN (FORMAT csv, FREEZE)"
            ) as copy:
                copy.write(typed)
            return cursor.rowcount

    def _end_bulk(self) -> None:
        rebuild, self._dropped_indexes = self._dropped_indexes or [], None
        self.pg.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for statement in rebuild:
            self.pg.execute(statement)

    def _copy_fast(self, typed: memoryview) -> bool:
        """COPY a typed block into raw.transactions; False (and nothing written) when a line is present."""
        self.pg.execute("SAVEPOINT load_block")
        try:
            with (
                self.pg.cursor() as cursor,
                cursor.copy(f"COPY raw.transactions ({_ROW_COLUMNS}) FROM STDIN (FORMAT csv)") as copy,
            ):
                copy.write(typed)
        except psycopg.errors.UniqueViolation:
            self.pg.execute("ROLLBACK TO SAVEPOINT load_block")
            return False
        self.pg.execute("RELEASE SAVEPOINT load_block")
        return True

    def _typed_stage(
        self, export_no: int, export_name: str, typed: memoryview, suspects: bytes
    ) -> tuple[int, int]:
        self._set_suspects(suspects)
        self.pg.execute("TRUNCATE load_batch")
        with (
            self.pg.cursor() as cursor,
            cursor.copy(f"COPY load_batch ({_ROW_COLUMNS}) FROM STDIN (FORMAT csv)") as copy,
        ):
            copy.write(typed)
        return self._insert_batch(export_no, export_name)

    def _set_suspects(self, suspects: bytes) -> None:
        self.pg.execute("TRUNCATE load_suspects")
        if suspects:
            with (
                self.pg.cursor() as cursor,
                cursor.copy("COPY load_suspects (invoice_no) FROM STDIN") as copy,
            ):
                copy.write(suspects)

    def _insert_batch(self, export_no: int, export_name: str) -> tuple[int, int]:
        row = self.conn.execute(
            text(read_sql("ingestion/06_insert_transactions.sql")),
            {"load_id": self.load_id, "export_name": export_name, "export_no": export_no},
        ).one()
        return row.lines_loaded, row.lines_present

    def _checked_stage(
        self, export_no: int, export_name: str, block: pa.Table, suspects: bytes
    ) -> tuple[int, int]:
        """Type and check a block in SQL: its bad lines are rejected with reasons, the good ones inserted."""
        self._set_suspects(suspects)
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
        params = {"load_id": self.load_id, "file_name": self.name, "export_name": export_name}
        if counts.lines_rejected:
            self.conn.execute(
                text(read_sql("ingestion/04_insert_rejected_lines.sql")),
                {**params, "export_names": self.export_names},
            )
        self.pg.execute("TRUNCATE load_batch")
        self.conn.execute(text(read_sql("ingestion/05_hash_checked_lines.sql")), params)
        return self._insert_batch(export_no, export_name)


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
# block to the SQL checks, so that both paths always give the same values and the same identities.

_NOT_BLANK = r"[^ ]"  # SQL's trim() removes spaces only
_INTEGER = r"^-?[0-9]{1,9}$"
_CUSTOMER = r"^-?[0-9]{1,9}(\.0+)?$"
_PRICE = r"^-?[0-9]{1,15}(\.[0-9]{1,12})?$"
_TIMESTAMP = r"^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"
# record_out (the text of ROW(...)) quotes a value that is empty or holds one of these (isspace: \t\n\v\f\r )
_NEEDS_QUOTES = r'^$|[\t\n\x0b\x0c\r "\\(),]'
_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int16)
_NULL = pa.scalar(None, pa.string())

try:  # CPython's own md5 is faster than OpenSSL's for short inputs (less set-up per call)
    from _md5 import md5 as _md5
except ImportError:  # pragma: no cover
    _md5 = hashlib.md5


@dataclass(frozen=True)
class _Constants:
    source_file: str
    source_export: str
    load_id: int


def _prepare(
    block: pa.Table, constants: _Constants, seen_invoices: set[str]
) -> tuple[pa.Table, memoryview | None, bytes]:
    """A block, its typed rows (None: the SQL checks type it) and its suspect invoices (COPY text): those
    also found in earlier blocks of the export, whose lines may have identical copies there."""
    invoices = set(pc.unique(block.column("invoice_no")).drop_null().to_pylist())
    suspects = invoices & seen_invoices
    seen_invoices |= invoices
    suspect_text = b""
    if suspects:
        escaped = _copy_text(pa.array(sorted(suspects), pa.string())).to_pylist()
        suspect_text = ("\n".join(escaped) + "\n").encode()
    try:
        return block, _type_block(block, constants), suspect_text
    except (pa.ArrowException, ValueError, OverflowError):  # a value this code did not foresee: SQL decides
        return block, None, suspect_text


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

    def expand(self, values: pa.Array, order: pa.Array | None = None, null: str | None = None) -> pa.Array:
        """``values`` (one per distinct value) for every line, in ``order``; missing ones as ``null``."""
        indices = self.indices if order is None else self.indices.take(order)
        expanded = values.take(indices)
        return pc.fill_null(expanded, null) if null is not None and expanded.null_count else expanded


def _type_block(block: pa.Table, constants: _Constants) -> memoryview | None:
    """The block as COPY text rows of raw.transactions with their identities, sorted by identity; None when
    a value is not in a plain spelling (the SQL checks then decide)."""
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

    # canonical text of the typed values, as PostgreSQL prints them
    quantity_text = pc.cast(pc.cast(quantity.values, pa.int32()), pa.string())
    price_text = _canonical_decimal(price.values)
    if _any(pc.match_substring(customer_values, ".")):
        customer_values = pc.replace_substring_regex(customer_values, r"\.0+$", "")
    customer_text = pc.cast(pc.cast(customer_values, pa.int32()), pa.string())

    # identity: md5 of the text of ROW(the eight canonical values). The separators are glued to the
    # distinct values first, so that each line is one join of eight pieces.
    fields = [
        _glue("(", _record_field(invoice.values), ","),
        _glue("", _record_field(stock.values), ","),
        _glue("", pc.fill_null(_record_field(description_values), ""), ","),
        _glue("", quantity_text, ',"'),
        _glue("", date.values, '",'),
        _glue("", price_text, ","),
        _glue("", pc.fill_null(customer_text, ""), ","),
        _glue("", _record_field(country.values), ")"),
    ]
    missing = [None, None, ",", None, None, None, ",", None]  # a NULL description or customer: nothing
    record = pc.binary_join_element_wise(
        *(
            column.expand(values, null=null)
            for column, values, null in zip(columns, fields, missing, strict=True)
        ),
        "",
    )
    digests = _md5s(record)
    order, occurrence = _identity_order(digests, rows)
    hashes = binascii.hexlify(np.frombuffer(digests, dtype=np.uint8).reshape(rows, 16)[order].tobytes())
    line_hash = pa.StringArray.from_buffers(
        rows, pa.py_buffer(np.arange(0, 32 * rows + 1, 32, dtype=np.int32)), pa.py_buffer(hashes)
    )
    take = pa.array(order)
    source_row = pc.cast(block.column("source_row").combine_chunks().take(take), pa.string())
    occurrence_text = pc.cast(pa.array(occurrence, pa.int32()), pa.string())
    source = f"{_csv_quote(constants.source_file)},{_csv_quote(constants.source_export)}"
    if not any(
        _any(pc.match_substring(values, "\\")) for values in (fields[0], fields[1], fields[2], fields[7])
    ):
        # Without backslashes, the text of a row is also a CSV line of its eight values (record_out quotes
        # whatever CSV must quote, and doubles quotes as CSV does; NULL is an empty unquoted field).
        values = pc.utf8_slice_codeunits(record.take(take), 1, -1)
    else:
        values = pc.binary_join_element_wise(
            invoice.expand(_csv_field(invoice.values), take),
            stock.expand(_csv_field(stock.values), take),
            description.expand(_csv_field(description_values), take, null=""),
            quantity.expand(quantity_text, take),
            date.expand(date.values, take),
            price.expand(price_text, take),
            customer.expand(customer_text, take, null=""),
            country.expand(_csv_field(country.values), take),
            ",",
        )
    copy_rows = pc.binary_join_element_wise(
        values, line_hash, occurrence_text, source, source_row, f"{constants.load_id}\n", ","
    )
    return _string_data(copy_rows)


def _identity_order(digests: bytes, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """The lines sorted by identity (the md5 as PostgreSQL orders uuids, then file order), and each one's copy
    number among the identical lines before it."""
    keys = np.frombuffer(digests, dtype=">u8").reshape(rows, 2).astype(np.uint64)
    high, low = keys[:, 0], keys[:, 1]
    order = np.argsort(high, kind="stable")
    sorted_high, sorted_low = high[order], low[order]
    same_high = sorted_high[1:] == sorted_high[:-1]
    if (same_high & (sorted_low[1:] != sorted_low[:-1])).any():  # two md5s share 64 bits: sort on all 128
        order = np.lexsort((np.arange(rows), low, high))
        sorted_high, sorted_low = high[order], low[order]
        same_high = sorted_high[1:] == sorted_high[:-1]
    first = np.ones(rows, dtype=bool)
    first[1:] = ~(same_high & (sorted_low[1:] == sorted_low[:-1]))
    positions = np.arange(rows)
    occurrence = positions - np.maximum.accumulate(np.where(first, positions, 0)) + 1
    return order, occurrence


def _glue(before: str, values: pa.Array, after: str) -> pa.Array:
    return pc.binary_join_element_wise(before, values, after, "")


def _csv_quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _csv_field(values: pa.Array) -> pa.Array:
    """Text values as CSV fields: quoted, quotes doubled (an empty string stays distinct from NULL)."""
    return pc.binary_join_element_wise('"', pc.replace_substring(values, '"', '""'), '"', "")


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


def _record_field(values: pa.Array) -> pa.Array:
    """A text value as it appears in the text of a row: quoted when empty or holding a space, a quote, a
    backslash, a comma or a parenthesis; quotes and backslashes doubled inside."""
    needs_quotes = pc.match_substring_regex(values, _NEEDS_QUOTES)
    if not _any(needs_quotes):
        return values
    escaped = values
    if _any(pc.match_substring_regex(values, r'["\\]')):
        escaped = pc.replace_substring(pc.replace_substring(values, "\\", "\\\\"), '"', '""')
    return pc.if_else(needs_quotes, pc.binary_join_element_wise('"', escaped, '"', ""), values)


def _copy_text(values: pa.Array) -> pa.Array:
    """Text values escaped for COPY's text format (backslash, tab, line feed, carriage return)."""
    if not _any(pc.match_substring_regex(values, r"[\\\t\n\r]")):
        return values
    for plain, escaped in (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r")):
        values = pc.replace_substring(values, plain, escaped)
    return values


def _string_data(values: pa.Array) -> memoryview:
    """The concatenated bytes of a string array's values, without a copy (the view keeps them alive)."""
    offsets = np.frombuffer(
        values.buffers()[1], dtype=np.int32, count=len(values) + 1, offset=values.offset * 4
    )
    return memoryview(values.buffers()[2][offsets[0] : offsets[-1]])


def _md5s(values: pa.Array) -> bytes:
    """The md5 digests of a string array's values, concatenated (16 bytes each)."""
    offsets = np.frombuffer(
        values.buffers()[1], dtype=np.int32, count=len(values) + 1, offset=values.offset * 4
    )
    data = memoryview(values.buffers()[2])
    bounds = offsets.tolist()
    md5 = _md5
    return b"".join([md5(data[start:stop]).digest() for start, stop in itertools.pairwise(bounds)])


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
            "UPDATE raw.file_loads SET exports = :exports, lines_read = :lines_read,"
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
