"""Numbers taken from the 2009-2010 sheet of the real export: sizes, countries, quantities, invoice kinds.

Why a module of its own: these are the knobs that make the sample look like the real data; keeping them
apart from the code that draws from them makes recalibrating a one-file change.
"""

from __future__ import annotations

import numpy as np

DEFAULT_START = "2009-12-01"
DEFAULT_DAYS = 374
FIRST_INVOICE_NO = 489434
MIN_CUSTOMER_ID = 12346
MAX_CUSTOMER_ID = 18287
HUGE_QUANTITY = 80995
# Below this many lines a chunk only gets what chance gives it; from here on every quirk is planted.
MIN_CHUNK_FOR_QUIRKS = 200

# Non-UK countries weighted by their line counts in the real sheet; the UK is handled separately.
_FOREIGN_COUNTRIES: tuple[tuple[str, int], ...] = (
    ("EIRE", 9670),
    ("Germany", 8129),
    ("France", 5772),
    ("Netherlands", 2769),
    ("Spain", 1278),
    ("Switzerland", 1187),
    ("Portugal", 1101),
    ("Belgium", 1054),
    ("Channel Islands", 906),
    ("Sweden", 902),
    ("Italy", 731),
    ("Australia", 654),
    ("Cyprus", 554),
    ("Austria", 537),
    ("Greece", 517),
    ("United Arab Emirates", 432),
    ("Denmark", 428),
    ("Norway", 369),
    ("Finland", 354),
    ("Unspecified", 310),
    ("USA", 244),
    ("Japan", 224),
    ("Poland", 194),
    ("Malta", 172),
    ("Lithuania", 154),
    ("Singapore", 117),
    ("RSA", 111),
    ("Bahrain", 107),
    ("Canada", 77),
    ("Hong Kong", 76),
    ("Thailand", 76),
    ("Israel", 74),
    ("Iceland", 71),
    ("Korea", 63),
    ("Brazil", 62),
    ("West Indies", 54),
    ("Bermuda", 34),
    ("Nigeria", 32),
    ("Lebanon", 13),
)
COUNTRIES = np.array(["United Kingdom", *(name for name, _ in _FOREIGN_COUNTRIES)], dtype=object)
FOREIGN_P = np.array([w for _, w in _FOREIGN_COUNTRIES], dtype=float) / sum(w for _, w in _FOREIGN_COUNTRIES)
UK, EIRE = 0, 1
UK_CUSTOMER_SHARE = 0.9  # with ~23% guest lines (98.5% UK) this gives ~91% UK lines
GUEST_UK_SHARE = 0.985

# Quantities of ordinary sale lines (value, weight): pack sizes, heavy at 1..24, tail to the thousands.
_SALE_QTY_TABLE: tuple[tuple[int, float], ...] = (
    (1, 0.26),
    (2, 0.12),
    (3, 0.06),
    (4, 0.06),
    (5, 0.02),
    (6, 0.09),
    (8, 0.03),
    (10, 0.04),
    (12, 0.14),
    (16, 0.012),
    (20, 0.012),
    (24, 0.07),
    (25, 0.006),
    (32, 0.004),
    (36, 0.006),
    (48, 0.016),
    (50, 0.004),
    (72, 0.004),
    (96, 0.005),
    (100, 0.004),
    (120, 0.002),
    (144, 0.003),
    (192, 0.0012),
    (200, 0.0015),
    (288, 0.0008),
    (480, 0.0004),
    (576, 0.0004),
    (1000, 0.0003),
    (1200, 0.0002),
    (2400, 0.0001),
    (4800, 0.00005),
)
SALE_QTY = np.array([q for q, _ in _SALE_QTY_TABLE], dtype=np.int64)
SALE_QTY_P = np.array([w for _, w in _SALE_QTY_TABLE]) / sum(w for _, w in _SALE_QTY_TABLE)
GUEST_QTY = np.array([1, 2, 3, 4, 6, 12], dtype=np.int64)
GUEST_QTY_P = np.array([0.6, 0.2, 0.07, 0.05, 0.04, 0.04])

# Invoice kinds and how often each starts an invoice (special invoices add their own small rates).
CUST_SALE, GUEST_SALE, STOCK_ADJ, CANCEL, SPECIAL, HUGE_SALE, HUGE_CANCEL = range(7)
KIND_P = {CUST_SALE: 0.66, GUEST_SALE: 0.095, STOCK_ADJ: 0.11, CANCEL: 0.16}

_STOCK_ADJ_NOTES = (
    "?", "damages", "damaged", "missing", "checked", "dotcom", "given away", "smashed", "MIA",
    "ebay sales", "temp", "wet damaged", "sold as set on dotcom", "mixed up", "short", "found", "faulty",
    "check",
)  # fmt: skip
STOCK_ADJ_WORDS = np.array(_STOCK_ADJ_NOTES, dtype=object)
