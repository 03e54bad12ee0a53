"""A simulated shop: writes orders and cancellations into the OLTP database as the web application would.

Baskets come from the sample generator (``retail_platform.sample_data``), so they have the real data's
distributions: basket sizes, pack-size quantities, list prices, the customer pool (the same ids as the
historical exports, so RFM sees returning customers), the UK-heavy country mix, guest checkouts (no
customer), and the odd identical line scanned twice. Stock-taking entries and the generator's cancellation
and bad-debt invoices are left out: in a shop, a cancellation is an operation on an earlier order, and the
simulator performs it as such. With ``cancel_share`` (the real data's share of cancellation invoices, 16%)
an order is a cancellation of a recent sale: some of its lines, in full or in part, as a new order
``C<number>`` with negative quantities, the customer and prices of the sale; the sale's status becomes
``partially_cancelled`` or ``cancelled`` (a changed row for the extract). Every order is one transaction
with its lines, as a web request would write it; ``batch`` orders share a commit when writing in bulk.

Time: by default orders are placed *now* (shop-local clock), as a live shop's are. ``start`` runs a simulated
clock instead, from that moment, with gaps between orders as in the real data (about 77 invoices per trading
day, 07:30-20:30, no trading on Saturdays), e.g. to continue the historical exports where they end.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import psycopg
import psycopg.rows

from retail_platform.sample_data import generator as sample_generator

REAL_CANCEL_SHARE = 0.16
_BASKET_CHUNK_ROWS = 5_000
# The sample drop's seed (retail-platform generate / run): the shop sells the sample catalogue's products to the
# sample's customers, a pool the size of the real one.
CATALOGUE_SEED = 20091201
_POOL_ROWS = 500_000
_OPEN, _CLOSE = timedelta(hours=7, minutes=30), timedelta(hours=20, minutes=30)
_MEAN_GAP_MINUTES = 13 * 60 / 77  # trading minutes per invoice in the 2009-2010 sheet


@dataclass(frozen=True)
class Basket:
    customer_id: int | None
    country: str
    lines: list[tuple[str, str | None, int, float]]  # stock_code, description, quantity, unit_price


@dataclass
class SimulationStats:
    """What a simulation wrote. Every order is a sale or the cancellation of one; the counts of orders and
    cancellations are derived, so they cannot disagree with what was written."""

    sales: int = 0
    lines: int = 0
    cancelled_orders: list[str] = field(default_factory=list)  # the cancellations' invoice numbers
    first_invoice: str | None = None
    last_invoice: str | None = None
    seconds: float = 0.0

    @property
    def cancellations(self) -> int:
        return len(self.cancelled_orders)

    @property
    def orders(self) -> int:
        return self.sales + self.cancellations

    def add(self, other: SimulationStats) -> None:
        self.sales += other.sales
        self.lines += other.lines
        self.first_invoice = self.first_invoice or other.first_invoice
        self.last_invoice = other.last_invoice or self.last_invoice
        self.cancelled_orders += other.cancelled_orders

    def summary(self) -> str:
        invoices = f", invoices {self.first_invoice}..{self.last_invoice}" if self.orders else ""
        return (
            f"{self.orders:,} orders ({self.sales:,} sales, {self.cancellations:,} cancellations; "
            f"{self.lines:,} lines{invoices})"
        )


def _price_text(price: float) -> str:
    return f"{price:.3f}"


def baskets(rng: np.random.Generator) -> Iterator[Basket]:
    """An endless stream of realistic sale baskets drawn with ``rng``.

    The catalogue and the customer pool are the sample generator's for the sample drop's seed, whatever
    ``rng``: a stock code always has the same description and list price, in every run of the simulator and in
    the sample drops; each chunk of baskets is drawn at a random moment of the generator's year (its season
    and the customers active then).
    """
    g = sample_generator
    catalogue = g._catalogue(CATALOGUE_SEED)
    customers = g._customers(_POOL_ROWS, CATALOGUE_SEED)
    timeline = g._timeline(g.DEFAULT_START, g.DEFAULT_DAYS)
    while True:
        offset = int(rng.integers(0, _POOL_ROWS - _BASKET_CHUNK_ROWS))
        frame, _ = g._make_chunk(
            rng, _BASKET_CHUNK_ROWS, offset, _POOL_ROWS, g.FIRST_INVOICE_NO, catalogue, customers, timeline
        )
        for invoice_no, group in frame.groupby("invoice_no", sort=False):
            if invoice_no[:1] in ("C", "A"):
                continue
            ids = group["customer_id"]
            if ids.isna().all() and (group["unit_price"] == 0).all():
                continue  # a stock-taking entry, not an order
            customer = None if ids.isna().iloc[0] else int(ids.iloc[0])
            lines = [
                (
                    str(code),
                    None if description is None or description != description else str(description),
                    int(quantity),
                    float(price),
                )
                for code, description, quantity, price in zip(
                    group["stock_code"],
                    group["description"],
                    group["quantity"],
                    group["unit_price"],
                    strict=True,
                )
                if int(quantity) != 0
            ]
            if lines:
                yield Basket(customer, str(group["country"].iloc[0]), lines)


class SimulatedClock:
    """Live (now, shop-local) or simulated from ``start`` with real-data gaps between orders."""

    def __init__(self, rng: np.random.Generator, start: datetime | None = None) -> None:
        self.rng = rng
        self.current = start

    def next(self) -> datetime:
        if self.current is None:
            return datetime.now().replace(microsecond=0)
        moment = self.current + timedelta(minutes=float(self.rng.exponential(_MEAN_GAP_MINUTES)))
        day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        if moment - day >= _CLOSE:
            moment = day + timedelta(days=1) + _OPEN
        elif moment - day < _OPEN:
            moment = day + _OPEN
        if moment.weekday() == 5:  # no Saturday trading in the real data
            moment = moment.replace(hour=0, minute=0, second=0) + timedelta(days=1) + _OPEN
        self.current = moment.replace(microsecond=0)
        return self.current


class ShopSimulator:
    """Writes orders into the shop database at ``url`` (its schema applied: ``apply_shop_schema``)."""

    def __init__(
        self,
        url: str,
        *,
        seed: int | None = None,
        cancel_share: float = REAL_CANCEL_SHARE,
        start: datetime | None = None,
    ) -> None:
        if not 0 <= cancel_share < 1:
            raise ValueError(f"cancel_share must be in [0, 1), got {cancel_share}")
        self.url = url
        self.seed = int(seed if seed is not None else time.time_ns() % 2**31)
        self.rng = np.random.default_rng([self.seed, 0x5409])
        self.cancel_share = cancel_share
        self.clock = SimulatedClock(self.rng, start)
        self._baskets = baskets(self.rng)
        if start is None:
            return
        # A simulated clock continues after the shop's latest order rather than before it.
        with psycopg.connect(url) as conn:
            latest = conn.execute("SELECT max(placed_at) FROM shop.orders").fetchone()[0]
        if latest is not None and latest > start:
            self.clock.current = latest

    def place_orders(self, count: int, *, batch: int = 50) -> SimulationStats:
        """Write ``count`` orders (sales and cancellations), ``batch`` orders per commit."""
        started = time.perf_counter()
        total = SimulationStats()
        with psycopg.connect(self.url) as conn:
            remaining = count
            while remaining > 0:
                size = min(batch, remaining)
                with conn.transaction():
                    total.add(self._write(conn, size))
                remaining -= size
        total.seconds = time.perf_counter() - started
        return total

    def follow(
        self,
        rate: float,
        *,
        should_stop: Callable[[], bool] = lambda: False,
        report: Callable[[SimulationStats], None] | None = None,
        report_every: float = 10.0,
    ) -> SimulationStats:
        """Keep writing about ``rate`` orders per second, one commit per order, until ``should_stop()``
        (or Ctrl-C); ``report`` gets the running totals every ``report_every`` seconds."""
        total = SimulationStats()
        started = last_report = time.perf_counter()
        with psycopg.connect(self.url) as conn:
            try:
                while not should_stop():
                    with conn.transaction():
                        total.add(self._write(conn, 1))
                    time.sleep(float(self.rng.exponential(1.0 / rate)) if rate > 0 else 1.0)
                    if report and time.perf_counter() - last_report >= report_every:
                        total.seconds = time.perf_counter() - started
                        report(total)
                        last_report = time.perf_counter()
            except KeyboardInterrupt:
                pass
        total.seconds = time.perf_counter() - started
        return total

    # --- writing ----------------------------------------------------------------------------------------

    def _write(self, conn: psycopg.Connection, count: int) -> SimulationStats:
        stats = SimulationStats()
        candidates: list[int] | None = None
        for _ in range(count):
            if self.rng.random() < self.cancel_share:
                if candidates is None:
                    candidates = [
                        row[0]
                        for row in conn.execute(
                            "SELECT order_id FROM shop.orders WHERE kind = 'sale' AND status = 'placed'"
                            " ORDER BY order_id DESC LIMIT 200"
                        )
                    ]
                if candidates:
                    target = candidates.pop(int(self.rng.integers(len(candidates))))
                    invoice, lines = self._cancel(conn, target)
                    stats.lines += lines
                    stats.cancelled_orders.append(invoice)
                    self._note_invoice(stats, invoice)
                    continue
            invoice, lines, order_id = self._sale(conn, next(self._baskets))
            if candidates is not None:
                candidates.insert(0, order_id)
            stats.sales += 1
            stats.lines += lines
            self._note_invoice(stats, invoice)
        return stats

    @staticmethod
    def _note_invoice(stats: SimulationStats, invoice: str) -> None:
        stats.first_invoice = stats.first_invoice or invoice
        stats.last_invoice = invoice

    def _sale(self, conn: psycopg.Connection, basket: Basket) -> tuple[str, int, int]:
        order_id, invoice = conn.execute(
            "INSERT INTO shop.orders (invoice_no, kind, customer_id, country, placed_at)"
            " VALUES (nextval('shop.invoice_no_seq')::text, 'sale', %s, %s, %s) RETURNING order_id, invoice_no",
            (basket.customer_id, basket.country, self.clock.next()),
        ).fetchone()
        self._insert_lines(conn, order_id, basket.lines)
        return invoice, len(basket.lines), order_id

    def _cancel(self, conn: psycopg.Connection, order_id: int) -> tuple[str, int]:
        """Cancel some lines of a sale (the real data's cancellation sizes: geometric, mostly 1-3 lines)."""
        sale = conn.execute(
            "SELECT customer_id, country FROM shop.orders WHERE order_id = %s", (order_id,)
        ).fetchone()
        lines = conn.execute(
            "SELECT stock_code, description, quantity, unit_price FROM shop.order_lines"
            " WHERE order_id = %s AND quantity > 0 ORDER BY line_no",
            (order_id,),
        ).fetchall()
        count = min(int(self.rng.geometric(0.45)), len(lines))
        chosen = sorted(self.rng.choice(len(lines), size=count, replace=False).tolist())
        cancelled, whole = [], True
        for index in chosen:
            code, description, quantity, price = lines[index]
            part = (
                quantity if quantity == 1 or self.rng.random() < 0.7 else int(self.rng.integers(1, quantity))
            )
            whole &= part == quantity
            cancelled.append((code, description, -part, float(price)))
        whole &= count == len(lines)
        cancel_id, invoice = conn.execute(
            "INSERT INTO shop.orders (invoice_no, kind, customer_id, country, placed_at, cancels_order_id)"
            " VALUES ('C' || nextval('shop.invoice_no_seq'), 'cancellation', %s, %s, %s, %s)"
            " RETURNING order_id, invoice_no",
            (sale[0], sale[1], self.clock.next(), order_id),
        ).fetchone()
        self._insert_lines(conn, cancel_id, cancelled)
        conn.execute(
            "UPDATE shop.orders SET status = %s WHERE order_id = %s",
            ("cancelled" if whole else "partially_cancelled", order_id),
        )
        return invoice, len(cancelled)

    @staticmethod
    def _insert_lines(conn: psycopg.Connection, order_id: int, lines: list) -> None:
        with conn.cursor().copy(
            "COPY shop.order_lines (order_id, line_no, stock_code, description, quantity, unit_price) FROM STDIN"
        ) as copy:
            for line_no, (code, description, quantity, price) in enumerate(lines, start=1):
                copy.write_row((order_id, line_no, code, description, quantity, _price_text(price)))
