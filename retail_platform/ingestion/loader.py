"""Loading one file into ``raw.transactions`` exactly once, atomically, with every line accounted for.

The path of a file (SPEC §3):

1. its sha256 is compared with the files already loaded: identical content loads nothing (ledger status
   ``duplicate``, pointing at the first load);
2. otherwise its rows stream through COPY into a temporary staging table, as text;
3. one set-based SQL pass types every value and lists each line's problems (``sql/ingestion/``);
4. bad lines go to ``raw.rejected_lines``; when they exceed ``max_rejected_share`` of the file the whole file is
   rejected, otherwise the good lines not yet in the warehouse are inserted;
5. the ledger row in ``raw.file_loads`` is written in the same transaction. Only one load runs at a time
   (an advisory lock), so two processes never race on line identity.

Any failure before the commit leaves nothing behind. Files that cannot be read as a table are rejected with a
reason. Warehouse errors propagate: the file stays where it is and the next run retries it.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from retail_platform.ingestion.readers import Export, FileRejected, file_format, read_exports
from retail_platform.warehouse.sql_files import read_sql, run_script

log = logging.getLogger(__name__)

LOAD_LOCK_KEY = 7_311_002
DEFAULT_MAX_REJECTED_SHARE = 0.1
_STAGE_COLUMNS = (
    "export_no, source_row, structural_error, raw_text, invoice_no, stock_code, description, quantity, "
    "invoice_date, unit_price, customer_id, country"
)

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
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as stream:
        while block := stream.read(1 << 20):
            digest.update(block)
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
    """Load ``path`` into the warehouse; never raises for bad input, only for warehouse errors."""
    sha256, size = file_digest(path)
    try:
        fmt = file_format(path)
    except FileRejected as rejection:
        fmt, unsupported = None, rejection
    else:
        unsupported = None

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
    export_names = _copy_exports(conn, name, exports, progress)
    result.exports = len(export_names)
    if not export_names:
        raise FileRejected("no sheet of the workbook has a header row")
    run_script(conn, read_sql("ingestion/02_check_stage.sql"))
    counts = conn.execute(text(read_sql("ingestion/03_count_stage.sql"))).one()
    result.lines_read, result.lines_rejected = counts.lines_read, counts.lines_rejected
    if not result.lines_read:
        raise FileRejected("no lines: the file has a header but no data lines (an export cut short?)")
    params = {"load_id": result.load_id, "file_name": name, "export_names": export_names}
    conn.execute(text(read_sql("ingestion/04_insert_rejected_lines.sql")), params)
    result.rejected_samples = _rejected_samples(conn, result.load_id)
    if result.lines_read and result.lines_rejected / result.lines_read > max_rejected_share:
        result.status = "rejected"
        result.error = (
            f"{result.lines_rejected:,} of {result.lines_read:,} lines are invalid "
            f"({result.lines_rejected / result.lines_read:.0%}, above the {max_rejected_share:.0%} limit); "
            f"first: row {result.rejected_samples[0]['source_row']}: {result.rejected_samples[0]['reason']}"
        )
        result.lines_rejected = result.lines_read
    else:
        insert = text(read_sql("ingestion/05_insert_transactions.sql"))
        inserted = sum(
            conn.execute(insert, {**params, "export_no": export_no}).rowcount
            for export_no in range(len(export_names))
        )
        result.lines_loaded = inserted
        result.lines_already_present = result.lines_read - result.lines_rejected - inserted
        if result.lines_rejected:
            result.error = f"{result.lines_rejected:,} invalid lines kept in raw.rejected_lines"
    _update_ledger(conn, result)


def _copy_exports(
    conn: Connection, name: str, exports_factory: Callable[[], Iterator[Export]], progress: Progress
) -> list[str]:
    """Stream every export of the file into the staging table; returns the export names."""
    cursor = conn.connection.driver_connection.cursor()
    names: list[str] = []
    rows_copied = 0
    try:
        with cursor.copy(f"COPY load_stage ({_STAGE_COLUMNS}) FROM STDIN") as copy:
            exports = exports_factory()
            while True:
                try:
                    export: Export | None = next(exports, None)
                    if export is None:
                        break
                    names.append(export.name)
                    for row in export.rows:
                        if row[0] != len(names) - 1:
                            row = (len(names) - 1, *row[1:])
                        copy.write_row(row)
                        rows_copied += 1
                        if rows_copied % 250_000 == 0:
                            progress(f"{name}: {rows_copied:,} lines staged")
                except FileRejected:
                    raise
                except (
                    OSError,
                    EOFError,
                    UnicodeError,
                    ValueError,
                    csv.Error,
                    zlib.error,
                    zipfile.BadZipFile,
                    SyntaxError,
                ) as error:  # SyntaxError: XML ParseError of a corrupt workbook sheet
                    raise FileRejected(
                        f"cannot read {name} ({type(error).__name__}): {error}", lines=rows_copied
                    ) from error
    finally:
        cursor.close()
    return names


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
