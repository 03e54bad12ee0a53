"""Non-product stock codes: single-line special invoices and special lines inside ordinary sales.

Why: the real export mixes fees, bad-debt adjustments, postage, vouchers and test codes into the product
lines; these tables say which codes exist, how often they occur and how they are priced.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class SpecialInvoice(NamedTuple):
    """A single-line invoice for a non-product stock code."""

    code: str
    description: str
    prefix: str  # "", "C" (cancellation) or "A" (bad-debt adjustment)
    quantity: int
    price_median: float
    price_sigma: float
    negative_price_share: float
    customer_share: float
    rate: float  # per invoice
    forced: bool  # planted once per chunk


SPECIAL_INVOICES: tuple[SpecialInvoice, ...] = (
    SpecialInvoice("B", "Adjust bad debt", "A", 1, 40000.0, 0.35, 0.7, 0.0, 0.00003, True),
    SpecialInvoice("AMAZONFEE", "AMAZON FEE", "C", -1, 5000.0, 0.7, 0.0, 0.0, 0.0003, True),
    SpecialInvoice("D", "Discount", "C", -1, 15.0, 0.9, 0.0, 0.95, 0.0035, True),
    SpecialInvoice("BANK CHARGES", "Bank Charges", "C", -1, 15.0, 0.3, 0.0, 0.6, 0.002, True),
    SpecialInvoice("S", "SAMPLES", "C", -1, 30.0, 0.8, 0.0, 0.5, 0.0014, False),
    SpecialInvoice("CRUK", "CRUK Commission", "C", -1, 20.0, 0.9, 0.0, 1.0, 0.0005, True),
    SpecialInvoice("M", "Manual", "C", -1, 10.0, 1.2, 0.0, 0.8, 0.001, False),
    SpecialInvoice("ADJUST", "Adjustment by john on 26/01/2010 16", "", 1, 40.0, 1.0, 0.0, 1.0, 0.0023, True),
    SpecialInvoice(
        "ADJUST2", "Adjustment by Peter on Jun 25 2010", "", 1, 300.0, 0.3, 0.0, 1.0, 0.0001, False
    ),
    SpecialInvoice("TEST001", "This is a test product.", "", 5, 4.5, 0.0, 0.0, 0.5, 0.0005, True),
    SpecialInvoice("TEST002", "This is a test product.", "", 1, 0.5, 0.0, 0.0, 0.5, 0.0001, False),
)


class SpecialLine(NamedTuple):
    """A non-product stock code that appears as one line of an ordinary sale."""

    code: str
    description: str
    guest: bool  # appears in guest (dotcom) sales rather than customer sales
    group: str  # forced groups are planted once per chunk
    rate: float  # per eligible line
    quantities: tuple[int, ...]
    price_median: float
    price_sigma: float


def _gift(value: int, rate: float) -> SpecialLine:
    # Vouchers are booked net of 17.5% VAT, as in the real data (a 20 pound voucher at 17.02).
    description = f"Dotcomgiftshop Gift Voucher \u00a3{value}.00"
    return SpecialLine(
        f"gift_0001_{value}", description, True, "gift", rate, (1, 1, 1, 2), round(value / 1.175, 2), 0.0
    )


SPECIAL_LINES: tuple[SpecialLine, ...] = (
    SpecialLine("M", "Manual", False, "M", 0.0012, (1, 1, 1, 2, 4, 12), 3.0, 1.2),
    SpecialLine("m", "Manual", False, "", 0.00001, (1,), 3.0, 1.0),
    SpecialLine("PADS", "PADS TO MATCH ALL CUSHIONS", False, "PADS", 0.00003, (1,), 0.001, 0.0),
    SpecialLine("SP1002", "KID'S CHALKBOARD/EASEL", False, "", 0.00001, (1, 2), 2.95, 0.0),
    _gift(10, 0.00015),
    _gift(20, 0.0004),
    _gift(30, 0.0004),
    _gift(40, 0.0001),
    _gift(50, 0.0001),
    _gift(60, 0.00004),
    _gift(70, 0.00005),
    _gift(80, 0.0001),
    _gift(90, 0.00004),
    SpecialLine("DCGS0003", "BOXED GLASS ASHTRAY", True, "DCGS", 0.0002, (1, 1, 2), 2.51, 0.0),
    SpecialLine("DCGS0004", "HAYNES CAMPER SHOULDER BAG", True, "DCGS", 0.0001, (1,), 16.98, 0.0),
    SpecialLine("DCGS0058", "MISO PRETTY  GUM", True, "DCGS", 0.0006, (1, 1, 2), 0.83, 0.0),
    SpecialLine("DCGS0069", "OOH LA LA DOGS COLLAR", True, "DCGS", 0.0001, (1,), 16.13, 0.0),
    SpecialLine("DCGS0070", "CAMOUFLAGE DOG COLLAR", True, "DCGS", 0.00005, (1,), 12.72, 0.0),
    SpecialLine("DCGS0076", "SUNJAR LED NIGHT NIGHT LIGHT", True, "DCGS", 0.0003, (1,), 16.13, 0.0),
    SpecialLine("DCGSSBOY", "update", True, "DCGS", 0.0002, (1, 3, 4), 3.36, 0.0),
    SpecialLine("DCGSSGIRL", "update", True, "DCGS", 0.0002, (1, 3, 4), 3.36, 0.0),
)
FORCED_LINE_GROUPS = ("M", "PADS", "gift", "DCGS")
# Codes placed by rule on the last line of a sale: postage for foreign customers, carriage for Ireland,
# dotcom postage on guest orders.
POST = SpecialLine("POST", "POSTAGE", False, "POST", 0.0, (1, 1, 1, 2, 3), 18.0, 0.0)
C2 = SpecialLine("C2", "CARRIAGE", False, "C2", 0.0, (1,), 50.0, 0.0)
DOT = SpecialLine("DOT", "DOTCOM POSTAGE", True, "DOT", 0.0, (1,), 100.0, 0.7)
POST_PRICES = np.array([18.0, 18.0, 18.0, 15.0, 28.0, 40.0])
