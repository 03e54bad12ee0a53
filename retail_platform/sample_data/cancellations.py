"""Cancellations undo (part of) a recent sale: same customer, same products and prices, negative quantities.

Why linked and not random: the marts net cancellations against sales per customer and product, so a
cancellation must point back at something that was really bought; without an earlier sale in the chunk it
cancels a random product.
"""

from __future__ import annotations

import numpy as np

from retail_platform.sample_data.calibration import CANCEL, CUST_SALE
from retail_platform.sample_data.invoices import Invoices, Layout
from retail_platform.sample_data.lines import Lines


def _source_invoices(rng: np.random.Generator, cancel_inv: np.ndarray, kinds: np.ndarray) -> np.ndarray:
    """For each cancellation, a customer sale shortly before it in this chunk, or -1 without one."""
    sale_inv = np.flatnonzero(kinds == CUST_SALE)
    before = np.searchsorted(sale_inv, cancel_inv)  # customer sales earlier in this chunk
    back = np.minimum(rng.geometric(0.02, len(cancel_inv)) - 1, np.maximum(before - 1, 0))
    src_inv = np.full(len(cancel_inv), -1, dtype=np.int64)
    linked = before > 0
    src_inv[linked] = sale_inv[before[linked] - 1 - back[linked]]
    return src_inv


def link_cancellations(rng: np.random.Generator, invoices: Invoices, layout: Layout, lines: Lines) -> None:
    """Give each cancellation its sale's customer and country, and copy (part of) that sale's lines."""
    cancel_inv = np.flatnonzero(invoices.kinds == CANCEL)
    src_inv = _source_invoices(rng, cancel_inv, invoices.kinds)
    linked = src_inv >= 0
    invoices.cust[cancel_inv[linked]] = invoices.cust[src_inv[linked]]
    invoices.country[cancel_inv[linked]] = invoices.country[src_inv[linked]]
    invoices.has_cust[cancel_inv[rng.random(len(cancel_inv)) < 0.04]] = False

    cancel_lines = np.flatnonzero(layout.kind == CANCEL)
    c_slot = np.searchsorted(cancel_inv, layout.inv[cancel_lines])
    c_src = src_inv[c_slot]
    ok = c_src >= 0
    offset = rng.integers(0, 1 << 30, len(cancel_inv))[c_slot]
    safe_src = np.maximum(c_src, 0)
    src_line = invoices.starts[safe_src] + (offset + layout.pos[cancel_lines]) % invoices.lengths[safe_src]
    take, src_line = cancel_lines[ok], src_line[ok]
    lines.item[take] = lines.item[src_line]
    lines.price[take] = lines.price[src_line]
    lines.description[take] = lines.description[src_line]
    partial = rng.random(len(take)) < 0.25
    part = np.maximum(1, np.floor(lines.qty[src_line] * rng.random(len(take)))).astype(np.int64)
    lines.qty[take] = np.where(partial, part, lines.qty[src_line])
    lines.qty[cancel_lines] = -np.abs(lines.qty[cancel_lines])
