"""The lines of a chunk: ordinary products first, then each special invoice kind overwrites its own lines.

Why overwrite rather than draw per kind: drawing every line the same way first keeps the random stream (and
so the output) stable, and each kind then only states what makes it different.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from retail_platform.sample_data.calibration import (
    GUEST_QTY,
    GUEST_QTY_P,
    HUGE_CANCEL,
    HUGE_QUANTITY,
    HUGE_SALE,
    MIN_CHUNK_FOR_QUIRKS,
    SALE_QTY,
    SALE_QTY_P,
    SPECIAL,
    STOCK_ADJ,
    STOCK_ADJ_WORDS,
)
from retail_platform.sample_data.catalogue import Catalogue
from retail_platform.sample_data.invoices import Invoices, Layout
from retail_platform.sample_data.specials import SPECIAL_INVOICES, SpecialLine


def lognormal_price(rng: np.random.Generator, median: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Prices scattered around ``median``; sub-penny medians keep a third decimal (0.001 pads)."""
    raw = median * np.exp(sigma * rng.standard_normal(len(median)))
    return np.where(median < 0.01, np.round(raw, 3), np.round(raw, 2))


@dataclass
class Lines:
    """Per-line arrays of a chunk, overwritten in place by each step that follows the product draw."""

    item: np.ndarray  # catalogue index
    qty: np.ndarray  # int64
    price: np.ndarray  # float64
    description: np.ndarray  # object: str or None
    coded: np.ndarray  # bool: the line carries a non-product code

    def put(self, rng: np.random.Generator, lines: np.ndarray, spec: SpecialLine, item_id: int) -> None:
        """Turn ``lines`` into the special code ``spec`` (catalogue entry ``item_id``)."""
        self.item[lines] = item_id
        self.description[lines] = spec.description
        self.qty[lines] = rng.choice(np.array(spec.quantities, dtype=np.int64), size=len(lines))
        medians = np.full(len(lines), spec.price_median)
        self.price[lines] = lognormal_price(rng, medians, np.full(len(lines), spec.price_sigma))
        self.coded[lines] = True

    def copied(self, source: np.ndarray) -> Lines:
        """Line ``i`` of the result is line ``source[i]`` of these."""
        return Lines(
            self.item[source],
            self.qty[source],
            self.price[source],
            self.description[source],
            self.coded[source],
        )


def product_lines(rng: np.random.Generator, layout: Layout, catalogue: Catalogue) -> Lines:
    """Every line an ordinary product: popular items more often, pack-size quantities, shop prices."""
    n = len(layout.inv)
    guest_sale, cust_sale = layout.guest_sale, layout.cust_sale
    item = rng.choice(len(catalogue.codes), size=n, p=catalogue.popularity)
    guest_qty = rng.choice(GUEST_QTY, size=n, p=GUEST_QTY_P)
    qty = np.where(guest_sale, guest_qty, rng.choice(SALE_QTY, size=n, p=SALE_QTY_P)).astype(np.int64)
    price = catalogue.prices[item]
    # Dotcom (guest) prices carry a markup; big customer orders often get a bulk price.
    price = np.where(guest_sale, np.round(price * 1.13, 2), price)
    bulk = cust_sale & (qty >= 48) & (rng.random(n) < 0.6)
    price = np.where(bulk, np.maximum(np.round(np.floor(price * 0.82 * 20) / 20, 2), 0.05), price)
    price = np.where(layout.sale & (rng.random(n) < 0.0002), 0.0, price)  # the odd free item
    description = catalogue.descriptions[item]
    return Lines(item, qty, price, description, np.zeros(n, dtype=bool))


def stock_adjustments(rng: np.random.Generator, lines: Lines, layout: Layout, catalogue: Catalogue) -> None:
    """No customer, price 0, description mostly missing or a stock-taker's note; mostly negative."""
    adj = np.flatnonzero(layout.kind == STOCK_ADJ)
    lines.item[adj] = rng.integers(0, catalogue.n_products, len(adj))
    size = np.ceil(rng.lognormal(np.log(20.0), 1.3, len(adj))).astype(np.int64)
    lines.qty[adj] = np.where(rng.random(len(adj)) < 0.7, -size, size)
    lines.price[adj] = 0.0
    mode = rng.random(len(adj))
    note = STOCK_ADJ_WORDS[rng.integers(0, len(STOCK_ADJ_WORDS), len(adj))]
    adj_desc = np.where(
        mode < 0.75, None, np.where(mode < 0.9, catalogue.descriptions[lines.item[adj]], note)
    )
    if len(adj) and len(layout.inv) >= MIN_CHUNK_FOR_QUIRKS and not np.equal(adj_desc, None).any():
        adj_desc[0] = None
    lines.description[adj] = adj_desc


def special_invoices(
    rng: np.random.Generator, lines: Lines, layout: Layout, invoices: Invoices, catalogue: Catalogue
) -> None:
    """Single-line invoices for fees, bad debt, tests and the like, priced per code."""
    si = SPECIAL_INVOICES
    spec_lines = np.flatnonzero(layout.kind == SPECIAL)
    which = invoices.special[layout.inv[spec_lines]]
    lines.item[spec_lines] = catalogue.special_invoice_item[which]
    lines.description[spec_lines] = catalogue.descriptions[lines.item[spec_lines]]
    lines.qty[spec_lines] = np.array([s.quantity for s in si], dtype=np.int64)[which]
    medians = np.array([s.price_median for s in si])[which]
    amount = lognormal_price(rng, medians, np.array([s.price_sigma for s in si])[which])
    negative = rng.random(len(spec_lines)) < np.array([s.negative_price_share for s in si])[which]
    lines.price[spec_lines] = np.where(negative, -amount, amount)
    lines.coded[spec_lines] = True


def huge_pair(lines: Lines, layout: Layout, catalogue: Catalogue) -> None:
    """The +/-80,995 pair: one cheap product bought in bulk and cancelled again."""
    huge_sale = np.flatnonzero(layout.kind == HUGE_SALE)
    huge_cancel = np.flatnonzero(layout.kind == HUGE_CANCEL)
    lines.qty[huge_sale] = HUGE_QUANTITY
    lines.qty[huge_cancel] = -HUGE_QUANTITY
    lines.price[huge_sale] = np.minimum(catalogue.prices[lines.item[huge_sale]], 2.08)
    lines.item[huge_cancel] = lines.item[huge_sale]
    lines.price[huge_cancel] = lines.price[huge_sale]
    lines.description[huge_cancel] = lines.description[huge_sale]
