"""Incremental extract of the shop's OLTP database into ``raw.transactions``, under the loader's exactly-once
line identity (``load_exports``).

The high-water mark is the shop database's **snapshot** at the previous extract (``pg_current_snapshot()``,
stored in ``ops.extract_watermarks``), not a timestamp. An extract reads, in one REPEATABLE READ transaction,
every order that has a row (the order or one of its lines) written by a transaction that was not yet visible
in that snapshot, and then stores its own snapshot. A transaction that started before the previous extract and
committed after it is therefore never missed (a timestamp watermark would skip it), and rows still being
written are left for the next extract.

Whole orders are extracted, never single lines: an order changed since the mark (a status change after a
cancellation, a line added) is exported with all its lines, ordered by line id. Identical lines of one order
(the same item scanned twice) then get the same occurrence numbers in every extract, so the lines already
loaded are "already present" and only genuinely new lines load. Each extract that finds something is one
export with a ledger row in ``raw.file_loads`` (named ``oltp:<database>@<UTC time>``); an extract that finds
nothing does not call the loader (which rejects a source without lines) and only advances the mark.

The mark is written after the load has committed. A crash in between re-extracts the same orders next time,
and the line identity makes that a no-op: at-least-once extraction, exactly-once loading. The mark belongs to
one source database: when the URL, the database or the server changes, or the server's transaction ids went
backwards (a restore), the extract starts over from the beginning, which is safe for the same reason.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, text

from retail_platform.ingestion.loader import LoadOptions, LoadResult, load_exports
from retail_platform.ingestion.readers import Export
from retail_platform.warehouse.connection import libpq_url, redact
from retail_platform.warehouse.sql_files import read_sql

log = logging.getLogger(__name__)

SOURCE = "shop"
EXPORT_NAME = "shop.order_lines"
SOURCE_FORMAT = "oltp"
# One extract at a time per warehouse (the sensor's job, a full refresh and a manual run may overlap).
EXTRACT_LOCK_KEY = 7_311_003
# An OLTP feed is quarantined line by line: rejecting a whole extract would block every later order.
DEFAULT_MAX_REJECTED_SHARE = 1.0


def _sql(name: str) -> str:
    return read_sql(f"extract/{name}.sql")


def _changed(mark: str | None) -> str:
    """The query of the changed orders: all of them without a mark."""
    return _sql("changed_orders_all" if mark is None else "changed_orders_since")


Progress = Callable[[str], None]


@dataclass
class Watermark:
    """A source's row in ``ops.extract_watermarks``."""

    snapshot: str
    source_identity: str
    high_water_mark: datetime | None
    extracts: int
    orders_extracted: int
    lines_extracted: int
    last_load_id: int | None
    updated_at: datetime | None = None


@dataclass
class ExtractResult:
    """What one extract did; ``status`` is ``nothing_new`` or the load's ledger status."""

    status: str
    source_url: str
    orders: int = 0
    lines: int = 0
    load: LoadResult | None = None
    mark_before: str | None = None
    mark_after: str | None = None
    high_water_mark: datetime | None = None
    reset_reason: str | None = None
    seconds: float = 0.0
    invoices: tuple[str, str] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def lines_loaded(self) -> int:
        return self.load.lines_loaded if self.load else 0

    @property
    def ok(self) -> bool:
        return self.load is None or self.load.ok


@dataclass(frozen=True)
class Pending:
    """What the sensor needs: are there orders the warehouse has not seen, and how many (capped)."""

    orders: int
    capped: bool
    mark: str | None
    reset_reason: str | None


def read_watermark(conn: Connection, source: str = SOURCE) -> Watermark | None:
    row = conn.execute(text(_sql("read_watermark")), {"source": source}).one_or_none()
    return Watermark(**row._mapping) if row else None


def source_identity(shop: Connection) -> str:
    """Which database this is: server address, database oid and, where the role may read it, the cluster's
    system identifier. A different value means the stored snapshot says nothing about this database."""
    oid, address, port = shop.execute(text(_sql("source_identity"))).one()
    try:
        with shop.begin_nested():
            system = shop.execute(text("SELECT system_identifier FROM pg_control_system()")).scalar_one()
    except Exception:  # permission denied for a non-superuser: the oid and the address still tell most cases
        system = "?"
    return f"{address}:{port}/oid={oid}/system={system}"


def _usable_mark(
    watermark: Watermark | None, identity: str, snapshot: str, shop: Connection
) -> tuple[str | None, str | None]:
    """The previous snapshot to extract from, or None (everything) with the reason for starting over."""
    if watermark is None:
        return None, "first extract: every order"
    if watermark.source_identity != identity:
        return (
            None,
            f"the source database changed ({watermark.source_identity} -> {identity}): every order again",
        )
    went_back = shop.execute(
        text(_sql("snapshot_went_back")), {"now": snapshot, "mark": watermark.snapshot}
    ).scalar_one()
    if went_back:
        return (
            None,
            "the source's transaction ids went backwards (restored from a backup?): every order again",
        )
    return watermark.snapshot, None


def pending_changes(shop_engine: Engine, warehouse_engine: Engine, limit: int = 100_000) -> Pending:
    """Count (up to ``limit``) the orders an extract would read now. Read-only on both sides."""
    with warehouse_engine.connect() as conn:
        watermark = read_watermark(conn)
    with shop_engine.connect() as shop:
        shop = shop.execution_options(isolation_level="REPEATABLE READ")
        snapshot = shop.execute(text("SELECT pg_current_snapshot()::text")).scalar_one()
        mark, reset = _usable_mark(watermark, source_identity(shop), snapshot, shop)
        count = shop.execute(
            text(_sql("count_changed").format(changed=_changed(mark))), {"mark": mark, "limit": limit}
        ).scalar_one()
        shop.rollback()
    return Pending(orders=count, capped=count >= limit, mark=mark, reset_reason=reset)


def _rows(shop: Connection, changed: str, mark: str | None) -> Iterator:
    yield from shop.execution_options(stream_results=True, yield_per=5_000).execute(
        text(_sql("changed_lines").format(changed=changed)), {"mark": mark}
    )


def _staged_rows(shop: Connection, changed: str, mark: str | None) -> Iterator[tuple]:
    """StagedRows for the loader: the source row is the OLTP line id, values as text."""
    for row in _rows(shop, changed, mark):
        yield (0, row.line_id, None, None, *row[2:10])


def _fingerprint(
    shop: Connection, changed: str, mark: str | None
) -> tuple[str, int, int, int, datetime | None, tuple[str, str] | None]:
    """sha256 of the extract's canonical content, its size in bytes, orders, lines, latest change, invoices."""
    digest = hashlib.sha256()
    size = lines = 0
    orders: set[int] = set()
    latest: datetime | None = None
    first_invoice = last_invoice = None
    for row in _rows(shop, changed, mark):
        record = "\x1f".join("" if value is None else str(value) for value in row[2:10]).encode() + b"\n"
        digest.update(record)
        size += len(record)
        lines += 1
        orders.add(row.order_id)
        latest = row.changed_at if latest is None or row.changed_at > latest else latest
        first_invoice = (
            row.invoice_no if first_invoice is None or row.invoice_no < first_invoice else first_invoice
        )
        last_invoice = (
            row.invoice_no if last_invoice is None or row.invoice_no > last_invoice else last_invoice
        )
    invoices = (first_invoice, last_invoice) if lines else None
    return digest.hexdigest(), size, len(orders), lines, latest, invoices


@contextlib.contextmanager
def _extract_lock(engine: Engine) -> Iterator[None]:
    """One extract at a time per warehouse (a session-level advisory lock, held across transactions)."""
    with engine.connect() as lock:
        lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": EXTRACT_LOCK_KEY})
        lock.commit()
        try:
            yield
        finally:
            lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": EXTRACT_LOCK_KEY})
            lock.commit()


def extract_shop(
    shop_engine: Engine,
    warehouse_engine: Engine,
    *,
    run_id: str | None = None,
    max_rejected_share: float = DEFAULT_MAX_REJECTED_SHARE,
    full: bool = False,
    progress: Progress | None = None,
) -> ExtractResult:
    """Extract every order changed since the high-water mark into the warehouse, then advance the mark.

    ``full`` ignores the mark (every order again; harmless, since lines already loaded are already present).
    """
    progress = progress or log.info
    clock = time.perf_counter()
    source_url = redact(libpq_url(shop_engine.url.render_as_string(hide_password=False)))
    with _extract_lock(warehouse_engine):
        with warehouse_engine.connect() as conn:
            watermark = read_watermark(conn)
        with shop_engine.connect() as shop:
            shop = shop.execution_options(isolation_level="REPEATABLE READ")
            # The first statement fixes the transaction's snapshot: it is the new mark, and every read below
            # sees exactly the rows committed before it.
            snapshot = shop.execute(text("SELECT pg_current_snapshot()::text")).scalar_one()
            identity = source_identity(shop)
            mark, reset = _usable_mark(watermark, identity, snapshot, shop)
            if full and mark is not None:
                mark, reset = None, "full extract requested: every order again"
            result = ExtractResult(
                status="nothing_new",
                source_url=source_url,
                mark_before=mark,
                mark_after=snapshot,
                reset_reason=reset,
            )
            if reset:
                progress(f"shop extract from {source_url}: {reset}")
            options = LoadOptions(run_id, max_rejected_share, progress)
            _load_changes(shop, warehouse_engine, result, watermark, options)
            shop.rollback()
        if result.ok:
            _store_watermark(warehouse_engine, result, identity, watermark)
        else:
            result.mark_after = mark
            result.notes.append("the mark was not advanced: the next extract reads these orders again")
    result.seconds = time.perf_counter() - clock
    if not result.lines:
        progress(f"shop extract from {source_url}: nothing new since the mark ({result.seconds:.1f} s)")
    return result


def _load_changes(
    shop: Connection,
    warehouse_engine: Engine,
    result: ExtractResult,
    watermark: Watermark | None,
    options: LoadOptions,
) -> None:
    """Fingerprint the orders changed since ``result.mark_before`` and load their lines as one export."""
    mark = result.mark_before
    changed = _changed(mark)
    fingerprint, size, result.orders, result.lines, latest, result.invoices = _fingerprint(
        shop, changed, mark
    )
    previous_hwm = watermark.high_water_mark if watermark else None
    result.high_water_mark = max(filter(None, (previous_hwm, latest)), default=None)
    if not result.lines:
        return
    started = datetime.now(UTC)
    name = f"oltp:{shop.engine.url.database}@{started:%Y-%m-%dT%H:%M:%SZ}"
    options.progress(
        f"{name}: {result.orders:,} order(s) changed since the mark, {result.lines:,} line(s) "
        f"(invoices {result.invoices[0]}..{result.invoices[1]})"
    )

    def exports() -> Iterator[Export]:
        yield Export(EXPORT_NAME, _staged_rows(shop, changed, mark))

    result.load = load_exports(
        warehouse_engine,
        name,
        exports,
        fingerprint=fingerprint,
        size_bytes=size,
        source_format=SOURCE_FORMAT,
        options=options,
    )
    result.status = result.load.status


def _store_watermark(
    engine: Engine, result: ExtractResult, identity: str, previous: Watermark | None
) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(_sql("store_watermark")),
            {
                "source": SOURCE,
                "url": result.source_url,
                "identity": identity,
                "snapshot": result.mark_after,
                "hwm": result.high_water_mark,
                "load_id": result.load.load_id if result.load else None,
                "orders": result.orders,
                "lines": result.lines,
            },
        )
