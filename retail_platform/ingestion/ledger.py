"""The load ledger: one ``raw.file_loads`` row per file seen, and its exports in ``raw.file_exports`` (SPEC §5).

Every statement runs on the file's own transaction (see ``loader``), so the ledger row commits with the lines
it accounts for, or not at all. The SQL is in ``sql/ingestion/ledger_*.sql``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import Connection, text

from retail_platform.warehouse.sql_files import read_sql

# The LoadResult fields stored in the ledger row.
_LEDGER_FIELDS = (
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
    "months_touched",
    "file_identity",
)


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
    # first days of the months of the lines this load inserted (empty when it inserted none)
    months_touched: list[str] = field(default_factory=list)
    # the landing file's device:inode:size:mtime_ns (``readiness.Entry.identity``); None for shop extracts
    file_identity: str | None = None
    seconds: float = 0.0
    rejected_samples: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status in ("loaded", "duplicate")

    def as_dict(self) -> dict:
        return asdict(self)


def _values(result: LoadResult) -> dict:
    return {key: getattr(result, key) for key in _LEDGER_FIELDS}


def insert_load(conn: Connection, result: LoadResult, started: datetime, run_id: str | None) -> int:
    """The file's ledger row as ``result`` stands; its ``load_id``."""
    return conn.execute(
        text(read_sql("ingestion/ledger_insert_load.sql")),
        {**_values(result), "run_id": run_id, "started_at": started},
    ).scalar_one()


def update_load(conn: Connection, result: LoadResult) -> None:
    """The outcome of the load on its ledger row (written by ``insert_load`` when the load started)."""
    conn.execute(
        text(read_sql("ingestion/ledger_update_load.sql")), {**_values(result), "load_id": result.load_id}
    )


def insert_export(conn: Connection, load_id: int, export_no: int, export_name: str) -> None:
    """One export (the file, or a sheet) of a load, numbered from 0 in file order."""
    conn.execute(
        text(read_sql("ingestion/ledger_insert_export.sql")),
        {"load_id": load_id, "export_no": export_no, "export_name": export_name},
    )


def same_size_loaded(conn: Connection, size_bytes: int) -> bool:
    """Whether a file of this size was loaded: only then can a new one be a duplicate."""
    return conn.execute(
        text(read_sql("ingestion/ledger_same_size_loaded.sql")), {"size_bytes": size_bytes}
    ).scalar_one()


def record_duplicate(conn: Connection, result: LoadResult, started: datetime, run_id: str | None) -> bool:
    """Identical bytes were loaded before: record a ``duplicate`` that loads nothing, and say so."""
    previous = conn.execute(
        text(read_sql("ingestion/ledger_first_load_of_content.sql")), {"sha256": result.sha256}
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
    result.load_id = insert_load(conn, result, started, run_id)
    return True


def rejected_samples(conn: Connection, load_id: int | None, limit: int = 20) -> list[dict]:
    """The first rejected lines of a load, in file order."""
    rows = conn.execute(
        text(read_sql("ingestion/ledger_rejected_samples.sql")), {"load_id": load_id, "limit": limit}
    ).mappings()
    return [dict(row) for row in rows]


@dataclass(frozen=True)
class SeenFile:
    """The ledger row of a file still in the landing folder that was processed already."""

    load_id: int
    status: str
    error: str | None
    left_in_landing: str | None


def seen_file(conn: Connection, file_name: str, file_identity: str) -> SeenFile | None:
    """The last ledger row written for this very file (name and identity), if any."""
    row = conn.execute(
        text(read_sql("ingestion/ledger_seen_file.sql")),
        {"file_name": file_name, "file_identity": file_identity},
    ).one_or_none()
    return None if row is None else SeenFile(row.load_id, row.status, row.error, row.left_in_landing)


def note_left_in_landing(conn: Connection, load_id: int, reason: str | None) -> None:
    """Why a processed file could not be moved out of the landing folder (None: it was moved after all)."""
    conn.execute(
        text(read_sql("ingestion/ledger_left_in_landing.sql")), {"load_id": load_id, "reason": reason}
    )
