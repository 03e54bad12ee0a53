"""One chunk of the sample: invoices first, then their lines step by step, then the canonical frame.

The model in short: a line's position in the output fixes its timestamp (through the cumulative
distribution of shop activity over days and minutes), so lines, invoice numbers and times increase
together and the seasonal shape is exact at any size. Each chunk is a random sequence of invoices
(customer sales, guest sales, stock adjustments, cancellations of earlier sales, single-line special
invoices) plus, when the chunk has room, one of every rare quirk, so that any output of 2,000 lines or more
shows all of them. The order of the steps below is the order of the random draws: changing it changes
every output.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from retail_platform.sample_data.calibration import CANCEL, COUNTRIES, HUGE_CANCEL, SPECIAL
from retail_platform.sample_data.cancellations import link_cancellations
from retail_platform.sample_data.catalogue import Catalogue
from retail_platform.sample_data.customers import Customers
from retail_platform.sample_data.invoices import Invoices, Layout, draw_invoices
from retail_platform.sample_data.lines import (
    Lines,
    huge_pair,
    product_lines,
    special_invoices,
    stock_adjustments,
)
from retail_platform.sample_data.quirks import duplicate_scans, plant_missing_codes, postage, random_codes
from retail_platform.sample_data.specials import SPECIAL_INVOICES
from retail_platform.sample_data.timeline import Timeline


def make_chunk(
    rng: np.random.Generator,
    n: int,
    line_offset: int,
    rows: int,
    first_invoice_no: int,
    catalogue: Catalogue,
    customers: Customers,
    timeline: Timeline,
) -> tuple[pd.DataFrame, int]:
    """``n`` lines from ``line_offset`` on (of ``rows``), and the invoice number to continue from."""
    invoices = draw_invoices(rng, n, line_offset, rows, first_invoice_no, customers, timeline)
    layout = Layout.of(invoices)
    lines = product_lines(rng, layout, catalogue)
    stock_adjustments(rng, lines, layout, catalogue)
    special_invoices(rng, lines, layout, invoices, catalogue)
    huge_pair(lines, layout, catalogue)
    postage(rng, lines, layout, invoices, catalogue)
    random_codes(rng, lines, layout, catalogue)
    plant_missing_codes(rng, lines, layout, catalogue)
    lines = duplicate_scans(rng, lines, layout)
    link_cancellations(rng, invoices, layout, lines)
    return _frame(invoices, layout, lines, catalogue, customers), invoices.next_number


def _frame(
    invoices: Invoices, layout: Layout, lines: Lines, catalogue: Catalogue, customers: Customers
) -> pd.DataFrame:
    """The canonical columns: prefixed invoice numbers, nullable customer ids, country names."""
    kinds, inv = invoices.kinds, layout.inv
    prefix = np.where(np.isin(kinds, [CANCEL, HUGE_CANCEL]), "C", "")
    special_prefix = np.array([s.prefix for s in SPECIAL_INVOICES])[np.maximum(invoices.special, 0)]
    prefix = np.where(kinds == SPECIAL, special_prefix, prefix)
    inv_no = np.char.add(prefix.astype("U1"), invoices.numbers.astype("U12")).astype(object)
    line_has_cust = invoices.has_cust[inv]
    customer_ids = np.where(line_has_cust, customers.ids[invoices.cust[inv]], 0).astype(np.int64)
    return pd.DataFrame(
        {
            "invoice_no": pd.array(inv_no[inv], dtype="str"),
            "stock_code": pd.array(catalogue.codes[lines.item], dtype="str"),
            "description": pd.array(lines.description, dtype="str"),
            "quantity": lines.qty.astype(np.int64),
            "invoice_date": invoices.dates[inv],
            "unit_price": lines.price.astype(np.float64),
            "customer_id": pd.arrays.IntegerArray(customer_ids, ~line_has_cust),
            "country": pd.array(COUNTRIES[invoices.country[inv]], dtype="str"),
        }
    )
