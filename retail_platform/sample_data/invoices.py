"""One chunk's invoices: their kinds and sizes, numbers, dates, customers and countries.

Why first: every line takes its invoice's header, and the kind of an invoice (sale, guest sale, stock
adjustment, cancellation, special) decides how its lines are drawn afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from retail_platform.sample_data.calibration import (
    CANCEL,
    CUST_SALE,
    FOREIGN_P,
    GUEST_SALE,
    GUEST_UK_SHARE,
    HUGE_CANCEL,
    HUGE_SALE,
    KIND_P,
    MIN_CHUNK_FOR_QUIRKS,
    SPECIAL,
    STOCK_ADJ,
    UK,
)
from retail_platform.sample_data.customers import BUCKETS, Customers
from retail_platform.sample_data.specials import SPECIAL_INVOICES
from retail_platform.sample_data.timeline import Timeline


def invoice_lengths(rng: np.random.Generator, kinds: np.ndarray) -> np.ndarray:
    """Lines per invoice: customer baskets median 13, guest (dotcom) orders bigger, cancellations small."""
    k = len(kinds)
    cust = np.clip(np.rint(rng.lognormal(np.log(13.0), 0.95, k)), 1, 675)
    guest = np.clip(np.rint(rng.lognormal(np.log(25.0), 1.1, k)), 1, 675)
    cancel = np.minimum(rng.geometric(0.45, k), 45)
    lengths = np.where(kinds == CUST_SALE, cust, np.where(kinds == GUEST_SALE, guest, 1))
    return np.where(kinds == CANCEL, cancel, lengths).astype(np.int64)


def plan_invoices(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Invoice kinds, line counts and special-invoice ids (or -1), totalling exactly ``n`` lines."""
    forced: list[tuple[int, int, int]] = []  # (kind, lines, special id)
    if n >= MIN_CHUNK_FOR_QUIRKS:
        forced += [(CUST_SALE, 4, -1), (CUST_SALE, 3, -1), (GUEST_SALE, 4, -1)]
        forced += [(STOCK_ADJ, 1, -1), (CANCEL, 2, -1)]
        forced += [(SPECIAL, 1, i) for i, s in enumerate(SPECIAL_INVOICES) if s.forced]
        forced += [(HUGE_SALE, 1, -1), (HUGE_CANCEL, 1, -1)]  # must stay neighbours
    n_random = n - sum(lines for _, lines, _ in forced)

    base_kinds = np.array(list(KIND_P), dtype=np.int64)
    p = np.concatenate([np.array(list(KIND_P.values())), [s.rate for s in SPECIAL_INVOICES]])
    p /= p.sum()
    kinds_parts, lengths_parts, special_parts = [], [], []
    total = 0
    while total < n_random:
        draw = rng.choice(len(p), size=max(16, int((n_random - total) / 17 * 1.2)), p=p)
        is_base = draw < len(base_kinds)
        kinds = np.where(is_base, base_kinds[np.minimum(draw, len(base_kinds) - 1)], SPECIAL)
        lengths = invoice_lengths(rng, kinds)
        kinds_parts.append(kinds)
        lengths_parts.append(lengths)
        special_parts.append(np.where(is_base, -1, draw - len(base_kinds)))
        total += int(lengths.sum())
    kinds = np.concatenate([np.zeros(0, dtype=np.int64), *kinds_parts])
    lengths = np.concatenate([np.zeros(0, dtype=np.int64), *lengths_parts])
    special = np.concatenate([np.zeros(0, dtype=np.int64), *special_parts])
    if len(kinds):
        ends = np.cumsum(lengths)
        last = int(np.searchsorted(ends, n_random))  # the invoice that reaches n_random lines is cut short
        kinds, lengths, special = kinds[: last + 1], lengths[: last + 1].copy(), special[: last + 1]
        lengths[-1] -= int(ends[last]) - n_random

    if forced:
        # Plant the forced invoices at random places; the +/-80,995 pair goes in as two neighbours.
        at = rng.integers(0, len(kinds) + 1, size=len(forced))
        at[-1] = at[-2]
        at[4] = max(at[4], at[0])  # the forced cancellation follows a forced sale it can undo
        order = np.argsort(at, kind="stable")
        values = np.array(forced, dtype=np.int64)[order]
        kinds = np.insert(kinds, at[order], values[:, 0])
        lengths = np.insert(lengths, at[order], values[:, 1])
        special = np.insert(special, at[order], values[:, 2])
    # A chunk opens with a sale, not with cancellations of sales it has not seen.
    first_sale = np.flatnonzero(kinds == CUST_SALE)[:1]
    head = np.arange(len(kinds)) < (first_sale[0] if len(first_sale) else len(kinds))
    kinds = np.where(head & (kinds == CANCEL), CUST_SALE, kinds)
    return kinds, lengths, special


@dataclass(frozen=True)
class Invoices:
    """One entry per invoice of a chunk; customer fields stay mutable arrays (cancellations relink them)."""

    kinds: np.ndarray  # int64, one of the kinds in calibration
    lengths: np.ndarray  # int64 lines
    special: np.ndarray  # int64 SPECIAL_INVOICES index, or -1
    starts: np.ndarray  # int64 first line within the chunk
    numbers: np.ndarray  # int64 invoice numbers, without prefix
    dates: np.ndarray  # datetime64[us]
    cust: np.ndarray  # int64 index into the customer pool
    has_cust: np.ndarray  # bool
    country: np.ndarray  # int64 index into COUNTRIES
    next_number: int  # where the next chunk's numbering continues


def draw_invoices(
    rng: np.random.Generator,
    n: int,
    line_offset: int,
    rows: int,
    first_invoice_no: int,
    customers: Customers,
    timeline: Timeline,
) -> Invoices:
    """The invoices of ``n`` lines from ``line_offset`` on (of ``rows``), numbered from ``first_invoice_no``."""
    kinds, lengths, special = plan_invoices(rng, n)
    n_inv = len(kinds)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)

    # Time: the position of an invoice's first line in the whole output picks its minute.
    minute = timeline.minute_at((line_offset + starts) / rows)
    dates = (timeline.start + minute.astype("timedelta64[m]")).astype("datetime64[us]")
    bucket = np.minimum(minute * BUCKETS // timeline.minutes, BUCKETS - 1)

    # Invoice numbers increase with time, with gaps (numbers taken by other systems).
    numbers = first_invoice_no + np.cumsum(1 + rng.poisson(0.69, n_inv)) - 1
    next_number = int(numbers[-1]) + 1 if n_inv else first_invoice_no
    # Customers: drawn among those active in the invoice's fortnight, in proportion to their intensity.
    cust = customers.pick(bucket, rng.random(n_inv))
    has_cust, country = _buyers(rng, kinds, special, cust, customers)
    return Invoices(kinds, lengths, special, starts, numbers, dates, cust, has_cust, country, next_number)


def _buyers(
    rng: np.random.Generator, kinds: np.ndarray, special: np.ndarray, cust: np.ndarray, customers: Customers
) -> tuple[np.ndarray, np.ndarray]:
    """Whether each invoice names its customer, and its country; a big cancellation takes its sale's buyer."""
    n_inv = len(kinds)
    customer_share = np.array([s.customer_share for s in SPECIAL_INVOICES])[np.maximum(special, 0)]
    has_cust = np.isin(kinds, [CUST_SALE, CANCEL, HUGE_SALE, HUGE_CANCEL])
    has_cust |= (kinds == SPECIAL) & (rng.random(n_inv) < customer_share)
    guest_country = 1 + rng.choice(len(FOREIGN_P), size=n_inv, p=FOREIGN_P)
    guest_country = np.where((kinds != GUEST_SALE) | (rng.random(n_inv) < GUEST_UK_SHARE), UK, guest_country)
    country = np.where(has_cust, customers.country[cust], guest_country)
    huge_cancel = np.flatnonzero(kinds == HUGE_CANCEL)  # undoes its sale: same customer
    cust[huge_cancel] = cust[huge_cancel - 1]
    country[huge_cancel] = country[huge_cancel - 1]
    return has_cust, country


@dataclass(frozen=True)
class Layout:
    """Where each line of a chunk sits: its invoice, its position there, and that invoice's kind."""

    inv: np.ndarray  # invoice index per line
    pos: np.ndarray  # position within the invoice, from 0
    is_last: np.ndarray
    multi: np.ndarray  # the invoice has two lines or more
    kind: np.ndarray
    cust_sale: np.ndarray
    guest_sale: np.ndarray
    sale: np.ndarray

    @classmethod
    def of(cls, invoices: Invoices) -> Layout:
        lengths = invoices.lengths
        inv = np.repeat(np.arange(len(lengths)), lengths)
        pos = np.arange(len(inv)) - np.repeat(invoices.starts, lengths)
        kind = invoices.kinds[inv]
        cust_sale, guest_sale = kind == CUST_SALE, kind == GUEST_SALE
        return cls(
            inv=inv,
            pos=pos,
            is_last=pos == np.repeat(lengths, lengths) - 1,
            multi=np.repeat(lengths >= 2, lengths),
            kind=kind,
            cust_sale=cust_sale,
            guest_sale=guest_sale,
            sale=cust_sale | guest_sale,
        )
