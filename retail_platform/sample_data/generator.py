"""Synthetic invoice lines shaped like the UCI *Online Retail II* export (SPEC §2).

Why this exists: the real data set cannot ship with the project, yet the pipeline, its tests and its demos
need input that looks and misbehaves like the real thing: skewed customers and baskets, a UK-dominated
country mix, Christmas seasonality, cancellations, bad-debt adjustments, non-product stock codes, guest
checkouts, missing descriptions, zero and 0.001 prices, +/-80,995 quantities and identical lines scanned
twice. Everything is vectorised numpy, generated chunk by chunk so that ten million lines never sit in
memory at once, and deterministic for a given ``(rows, seed, chunk_rows)``.

The model in short: a line's position in the output fixes its timestamp (through the cumulative
distribution of shop activity over days and minutes), so lines, invoice numbers and times increase
together and the seasonal shape is exact at any size. Each chunk is a random sequence of invoices
(customer sales, guest sales, stock adjustments, cancellations of earlier sales, single-line special
invoices) plus, when the chunk has room, one of every rare quirk, so that any output of 2,000 lines or more
shows all of them.
"""

from __future__ import annotations

import functools
import gzip
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from retail_platform.ingestion.columns import CANONICAL_COLUMNS

HEADER_SPELLINGS: dict[str, dict[str, str]] = {
    "uci2": {
        "invoice_no": "Invoice",
        "stock_code": "StockCode",
        "description": "Description",
        "quantity": "Quantity",
        "invoice_date": "InvoiceDate",
        "unit_price": "Price",
        "customer_id": "Customer ID",
        "country": "Country",
    },
    "uci1": {
        "invoice_no": "InvoiceNo",
        "stock_code": "StockCode",
        "description": "Description",
        "quantity": "Quantity",
        "invoice_date": "InvoiceDate",
        "unit_price": "UnitPrice",
        "customer_id": "CustomerID",
        "country": "Country",
    },
    "snake": {column: column for column in CANONICAL_COLUMNS},
}

DEFAULT_START = "2009-12-01"
DEFAULT_DAYS = 374
FIRST_INVOICE_NO = 489434
MIN_CUSTOMER_ID = 12346
MAX_CUSTOMER_ID = 18287
HUGE_QUANTITY = 80995
# Below this many lines a chunk only gets what chance gives it; from here on every quirk is planted.
MIN_CHUNK_FOR_QUIRKS = 200
EXCEL_MAX_ROWS = 1_048_575

# ----------------------------------------------------------------------------------------------------
# Calibration, from the 2009-2010 sheet of the real data
# ----------------------------------------------------------------------------------------------------

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
_COUNTRIES = np.array(["United Kingdom", *(name for name, _ in _FOREIGN_COUNTRIES)], dtype=object)
_FOREIGN_P = np.array([w for _, w in _FOREIGN_COUNTRIES], dtype=float) / sum(w for _, w in _FOREIGN_COUNTRIES)
_UK, _EIRE = 0, 1
_UK_CUSTOMER_SHARE = 0.9  # with ~23% guest lines (98.5% UK) this gives ~91% UK lines
_GUEST_UK_SHARE = 0.985

# Relative activity per calendar day before the weekday factor: November peaks, Christmas week is closed.
_MONTH_FACTOR = np.array([0.0, 0.95, 1.0, 1.2, 1.05, 1.05, 1.2, 1.0, 1.0, 1.3, 1.75, 2.35, 2.0])
_WEEKDAY_FACTOR = np.array([1.0, 1.0, 0.96, 1.05, 0.78, 0.0, 0.8])  # Monday..Sunday; no Saturday trading
# Lines per opening hour in the real sheet; the shop opens at 07:30 and the last orders come by 20:30.
_HOUR_WEIGHT = {
    7: 744,
    8: 7076,
    9: 33992,
    10: 44211,
    11: 64106,
    12: 81136,
    13: 78049,
    14: 74042,
    15: 57790,
    16: 39539,
    17: 29040,
    18: 9017,
    19: 5384,
    20: 1334,
}

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
_SALE_QTY = np.array([q for q, _ in _SALE_QTY_TABLE], dtype=np.int64)
_SALE_QTY_P = np.array([w for _, w in _SALE_QTY_TABLE]) / sum(w for _, w in _SALE_QTY_TABLE)
_GUEST_QTY = np.array([1, 2, 3, 4, 6, 12], dtype=np.int64)
_GUEST_QTY_P = np.array([0.6, 0.2, 0.07, 0.05, 0.04, 0.04])

# Invoice kinds and how often each starts an invoice (special invoices add their own small rates).
_CUST_SALE, _GUEST_SALE, _STOCK_ADJ, _CANCEL, _SPECIAL, _HUGE_SALE, _HUGE_CANCEL = range(7)
_KIND_P = {_CUST_SALE: 0.66, _GUEST_SALE: 0.095, _STOCK_ADJ: 0.11, _CANCEL: 0.16}

_STOCK_ADJ_NOTES = (
    "?", "damages", "damaged", "missing", "checked", "dotcom", "given away", "smashed", "MIA",
    "ebay sales", "temp", "wet damaged", "sold as set on dotcom", "mixed up", "short", "found", "faulty",
    "check",
)  # fmt: skip
_STOCK_ADJ_WORDS = np.array(_STOCK_ADJ_NOTES, dtype=object)


class _SpecialInvoice(NamedTuple):
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


_SPECIAL_INVOICES: tuple[_SpecialInvoice, ...] = (
    _SpecialInvoice("B", "Adjust bad debt", "A", 1, 40000.0, 0.35, 0.7, 0.0, 0.00003, True),
    _SpecialInvoice("AMAZONFEE", "AMAZON FEE", "C", -1, 5000.0, 0.7, 0.0, 0.0, 0.0003, True),
    _SpecialInvoice("D", "Discount", "C", -1, 15.0, 0.9, 0.0, 0.95, 0.0035, True),
    _SpecialInvoice("BANK CHARGES", "Bank Charges", "C", -1, 15.0, 0.3, 0.0, 0.6, 0.002, True),
    _SpecialInvoice("S", "SAMPLES", "C", -1, 30.0, 0.8, 0.0, 0.5, 0.0014, False),
    _SpecialInvoice("CRUK", "CRUK Commission", "C", -1, 20.0, 0.9, 0.0, 1.0, 0.0005, True),
    _SpecialInvoice("M", "Manual", "C", -1, 10.0, 1.2, 0.0, 0.8, 0.001, False),
    _SpecialInvoice(
        "ADJUST", "Adjustment by john on 26/01/2010 16", "", 1, 40.0, 1.0, 0.0, 1.0, 0.0023, True
    ),
    _SpecialInvoice(
        "ADJUST2", "Adjustment by Peter on Jun 25 2010", "", 1, 300.0, 0.3, 0.0, 1.0, 0.0001, False
    ),
    _SpecialInvoice("TEST001", "This is a test product.", "", 5, 4.5, 0.0, 0.0, 0.5, 0.0005, True),
    _SpecialInvoice("TEST002", "This is a test product.", "", 1, 0.5, 0.0, 0.0, 0.5, 0.0001, False),
)


class _SpecialLine(NamedTuple):
    """A non-product stock code that appears as one line of an ordinary sale."""

    code: str
    description: str
    guest: bool  # appears in guest (dotcom) sales rather than customer sales
    group: str  # forced groups are planted once per chunk
    rate: float  # per eligible line
    quantities: tuple[int, ...]
    price_median: float
    price_sigma: float


def _gift(value: int, rate: float) -> _SpecialLine:
    # Vouchers are booked net of 17.5% VAT, as in the real data (a 20 pound voucher at 17.02).
    description = f"Dotcomgiftshop Gift Voucher \u00a3{value}.00"
    return _SpecialLine(
        f"gift_0001_{value}", description, True, "gift", rate, (1, 1, 1, 2), round(value / 1.175, 2), 0.0
    )


_SPECIAL_LINES: tuple[_SpecialLine, ...] = (
    _SpecialLine("M", "Manual", False, "M", 0.0012, (1, 1, 1, 2, 4, 12), 3.0, 1.2),
    _SpecialLine("m", "Manual", False, "", 0.00001, (1,), 3.0, 1.0),
    _SpecialLine("PADS", "PADS TO MATCH ALL CUSHIONS", False, "PADS", 0.00003, (1,), 0.001, 0.0),
    _SpecialLine("SP1002", "KID'S CHALKBOARD/EASEL", False, "", 0.00001, (1, 2), 2.95, 0.0),
    _gift(10, 0.00015),
    _gift(20, 0.0004),
    _gift(30, 0.0004),
    _gift(40, 0.0001),
    _gift(50, 0.0001),
    _gift(60, 0.00004),
    _gift(70, 0.00005),
    _gift(80, 0.0001),
    _gift(90, 0.00004),
    _SpecialLine("DCGS0003", "BOXED GLASS ASHTRAY", True, "DCGS", 0.0002, (1, 1, 2), 2.51, 0.0),
    _SpecialLine("DCGS0004", "HAYNES CAMPER SHOULDER BAG", True, "DCGS", 0.0001, (1,), 16.98, 0.0),
    _SpecialLine("DCGS0058", "MISO PRETTY  GUM", True, "DCGS", 0.0006, (1, 1, 2), 0.83, 0.0),
    _SpecialLine("DCGS0069", "OOH LA LA DOGS COLLAR", True, "DCGS", 0.0001, (1,), 16.13, 0.0),
    _SpecialLine("DCGS0070", "CAMOUFLAGE DOG COLLAR", True, "DCGS", 0.00005, (1,), 12.72, 0.0),
    _SpecialLine("DCGS0076", "SUNJAR LED NIGHT NIGHT LIGHT", True, "DCGS", 0.0003, (1,), 16.13, 0.0),
    _SpecialLine("DCGSSBOY", "update", True, "DCGS", 0.0002, (1, 3, 4), 3.36, 0.0),
    _SpecialLine("DCGSSGIRL", "update", True, "DCGS", 0.0002, (1, 3, 4), 3.36, 0.0),
)
_FORCED_LINE_GROUPS = ("M", "PADS", "gift", "DCGS")
# Codes placed by rule on the last line of a sale: postage for foreign customers, carriage for Ireland,
# dotcom postage on guest orders.
_POST = _SpecialLine("POST", "POSTAGE", False, "POST", 0.0, (1, 1, 1, 2, 3), 18.0, 0.0)
_C2 = _SpecialLine("C2", "CARRIAGE", False, "C2", 0.0, (1,), 50.0, 0.0)
_DOT = _SpecialLine("DOT", "DOTCOM POSTAGE", True, "DOT", 0.0, (1,), 100.0, 0.7)
_POST_PRICES = np.array([18.0, 18.0, 18.0, 15.0, 28.0, 40.0])

# ----------------------------------------------------------------------------------------------------
# Catalogue: products and special codes, stable for a seed whatever the number of rows
# ----------------------------------------------------------------------------------------------------

_COLOURS = (
    "RED", "PINK", "BLUE", "GREEN", "WHITE", "IVORY", "BLACK", "CREAM", "PURPLE", "YELLOW", "ORANGE",
    "SILVER", "GOLD", "LILAC", "TURQUOISE", "NATURAL", "CHOCOLATE", "PASTEL", "BAROQUE",
)  # fmt: skip
_PATTERNS = (
    "RETROSPOT", "REGENCY", "VINTAGE", "POLKADOT", "SPOTTY", "FLORAL", "PAISLEY", "HEART", "STAR",
    "BIRD", "WOODLAND", "JUNGLE", "SKULL", "DOLLY GIRL", "SPACEBOY", "CIRCUS PARADE", "PANTRY",
    "ENGLISH ROSE", "UNION JACK", "FAIRY CAKE", "STRAWBERRY", "CHERRY", "ROSES", "LOVEBIRD",
    "SWEETHEART", "DOILEY", "HOMEMADE JAM", "PARIS", "BAKELIKE", "GINGHAM", "TOADSTOOL", "PEACE",
    "ROCOCO", "EDWARDIAN", "MOROCCAN", "ZINC", "WICKER", "FELTCRAFT",
)  # fmt: skip
_ITEMS = (
    "MUG", "TEACUP AND SAUCER", "CAKE STAND", "LUNCH BOX", "LUNCH BAG", "JUMBO BAG", "SHOPPER BAG",
    "TEA TOWEL", "NAPKINS", "PAPER CUPS", "PAPER PLATES", "BUNTING", "GARLAND", "DOORMAT",
    "CUSHION COVER", "HOT WATER BOTTLE", "ALARM CLOCK", "WALL CLOCK", "T-LIGHT HOLDER", "LANTERN",
    "CANDLE", "PHOTO FRAME", "NOTEBOOK", "PENCILS", "WRAP", "GIFT TAPE", "TRINKET BOX", "JEWELLERY BOX",
    "STORAGE JAR", "BISCUIT TIN", "CAKE TINS", "PLATE", "BOWL", "CHOPSTICKS", "EGG CUP", "APRON",
    "OVEN GLOVE", "UMBRELLA", "PURSE", "HANDBAG", "KEY-RING", "MIRROR", "DOORSTOP", "PLANTER",
    "WATERING CAN", "BIRD FEEDER", "WREATH", "DECORATION", "ORNAMENT", "STOCKING", "METAL SIGN", "SIGN",
    "CHALKBOARD", "MAGNET", "COASTERS", "PLACEMATS", "TISSUES", "PLASTERS IN TIN", "SPONGE", "RIBBONS",
    "BUTTONS", "SEWING KIT", "JIGSAW", "PLAYING CARDS", "DOLL", "SOFT TOY", "BEAKER", "JAM JAR",
    "BOTTLE", "FLASK", "HOOK", "COAT RACK", "SHELF", "DRAWER KNOB", "BLOCK WORD", "LETTERS", "LIGHTS",
)  # fmt: skip
_PREFIXES = (
    "", "", "", "", "", "SET OF 3 ", "SET OF 4 ", "SET OF 6 ", "SET/5 ", "PACK OF 12 ", "PACK OF 20 ",
    "PACK OF 60 ", "SMALL ", "LARGE ", "JUMBO ", "MINI ", "HANGING ", "CHRISTMAS ", "WOODEN ", "GLASS ",
    "ENAMEL ", "CERAMIC ",
)  # fmt: skip
_SUFFIX_LETTERS = ("A", "B", "C", "D", "E", "L", "F", "S", "G", "P", "W", "N", "BL", "M", "K")
# Stock-code number ranges and the share of products in each, loosely after the real catalogue.
_CODE_RANGES: tuple[tuple[int, int, float], ...] = (
    (20600, 23600, 0.62),
    (84000, 85250, 0.12),
    (90000, 90215, 0.05),
    (47000, 48200, 0.03),
    (35000, 37500, 0.04),
    (71000, 72820, 0.03),
    (79000, 79400, 0.02),
    (82000, 82600, 0.03),
    (10002, 18100, 0.04),
    (40000, 46000, 0.02),
)


@dataclass(frozen=True)
class _Catalogue:
    """Products first, then the special codes; one entry per stock code."""

    codes: np.ndarray  # object, str
    descriptions: np.ndarray  # object, str
    prices: np.ndarray  # float64 list price (0 for special codes)
    popularity: np.ndarray  # float64, sums to 1 over products, 0 for special codes
    n_products: int
    special_invoice_item: np.ndarray  # catalogue index per _SPECIAL_INVOICES entry
    special_line_item: np.ndarray  # catalogue index per _SPECIAL_LINES entry
    post_item: int
    c2_item: int
    dot_item: int


def _shop_price(raw: np.ndarray) -> np.ndarray:
    """Round list prices the way the shop does: 0.42, 1.25, 2.1, 6.95, 12.45."""
    cents = np.round(raw, 2)
    mid = np.round(raw * 20) / 20
    high = np.round(raw * 2) / 2 - 0.05
    price = np.where(raw < 1, cents, np.where(raw < 10, mid, high))
    return np.round(np.maximum(price, 0.1), 2)


@functools.lru_cache(maxsize=8)
def _catalogue(seed: int) -> _Catalogue:
    """About 4,000 products with stable codes, descriptions, prices and popularity for this seed."""
    rng = np.random.default_rng([seed, 0xCA7])
    weights = np.array([w for _, _, w in _CODE_RANGES])
    counts = np.floor(3600 * weights / weights.sum()).astype(int)
    numbers = np.sort(
        np.concatenate(
            [
                rng.choice(np.arange(lo, hi), size=min(c, hi - lo), replace=False)
                for (lo, hi, _), c in zip(_CODE_RANGES, counts, strict=True)
            ]
        )
    )
    n_base = len(numbers)
    n_variants = np.where(rng.random(n_base) < 0.065, rng.integers(2, 6, n_base), 1)
    prefix = rng.integers(0, len(_PREFIXES), n_base)
    pattern = rng.integers(0, len(_PATTERNS), n_base)
    thing = rng.integers(0, len(_ITEMS), n_base)

    codes: list[str] = []
    descriptions: list[str] = []
    base_of: list[int] = []
    for i, (number, k) in enumerate(zip(numbers.tolist(), n_variants.tolist(), strict=True)):
        head, tail = _PREFIXES[prefix[i]], f"{_PATTERNS[pattern[i]]} {_ITEMS[thing[i]]}"
        if k == 1:
            codes.append(str(number))
            descriptions.append(head + tail)
            base_of.append(i)
            continue
        letters = rng.choice(len(_SUFFIX_LETTERS), size=k, replace=False)
        colours = rng.choice(len(_COLOURS), size=k, replace=False)
        lower = rng.random(k) < 0.03
        for letter, colour, low in zip(letters.tolist(), colours.tolist(), lower.tolist(), strict=True):
            suffix = _SUFFIX_LETTERS[letter]
            codes.append(f"{number}{suffix.lower() if low else suffix}")
            descriptions.append(f"{head}{_COLOURS[colour]} {tail}")
            base_of.append(i)
    n_products = len(codes)

    # Real descriptions are sloppy: trailing spaces are common, leading and doubled spaces occasional.
    u = rng.random(n_products)
    desc = np.array(descriptions, dtype=object)
    desc = np.where(u < 0.16, desc + " ", desc)
    desc = np.where((u >= 0.16) & (u < 0.165), " " + desc, desc)
    double = np.flatnonzero((u >= 0.165) & (u < 0.175))
    desc[double] = [d.replace(" ", "  ", 1) for d in desc[double]]

    # List prices: lognormal around 2.4 with a long tail of furniture-like items.
    base_price = rng.lognormal(np.log(2.4), 0.75, n_base)
    tail = rng.random(n_base) < 0.008
    base_price[tail] = rng.lognormal(np.log(20.0), 0.8, int(tail.sum()))
    variation = rng.choice([1.0, 1.0, 1.0, 1.1, 0.9], n_products)
    prices = _shop_price(base_price[np.array(base_of)] * variation)

    # Popularity: Zipf-like over a random ranking; the top product takes about half a percent of lines.
    rank = rng.permutation(n_products)
    popularity = 1.0 / (rank + 20.0) ** 0.8

    specials: list[tuple[str, str]] = [(s.code, s.description) for s in _SPECIAL_INVOICES]
    specials += [(s.code, s.description) for s in _SPECIAL_LINES]
    specials += [(s.code, s.description) for s in (_POST, _C2, _DOT)]
    n_si, n_sl = len(_SPECIAL_INVOICES), len(_SPECIAL_LINES)
    rules = n_products + n_si + n_sl
    return _Catalogue(
        codes=np.array(codes + [c for c, _ in specials], dtype=object),
        descriptions=np.concatenate([desc, np.array([d for _, d in specials], dtype=object)]),
        prices=np.concatenate([prices, np.zeros(len(specials))]),
        popularity=np.concatenate([popularity / popularity.sum(), np.zeros(len(specials))]),
        n_products=n_products,
        special_invoice_item=n_products + np.arange(n_si),
        special_line_item=n_products + n_si + np.arange(n_sl),
        post_item=rules,
        c2_item=rules + 1,
        dot_item=rules + 2,
    )


# ----------------------------------------------------------------------------------------------------
# Customers and timeline: depend on the number of rows (scale), not on the chunking
# ----------------------------------------------------------------------------------------------------

_BUCKETS = 26  # fortnights: customers join and churn at this granularity


@dataclass(frozen=True)
class _Customers:
    ids: np.ndarray  # int64
    country: np.ndarray  # index into _COUNTRIES
    # Per fortnight, cumulative purchase weights of the customers active then (inverse-CDF sampling).
    bucket_cdf: np.ndarray  # float64 (buckets, customers)


def _customer_count(rows: int) -> int:
    """Pool size: ~4,000 of ~6,000 buy in 500k lines (real: 4,383); fewer in small samples; capped by ids."""
    n = round(6000 * (max(rows, 1) / 500_000) ** 0.75)
    return int(min(max(n, 20), MAX_CUSTOMER_ID - MIN_CUSTOMER_ID + 1))


def _customers(rows: int, seed: int) -> _Customers:
    n = _customer_count(rows)
    rng = np.random.default_rng([seed, 0xC057, n])
    ids = np.sort(rng.choice(MAX_CUSTOMER_ID - MIN_CUSTOMER_ID + 1, size=n, replace=False) + MIN_CUSTOMER_ID)
    foreign = 1 + rng.choice(len(_FOREIGN_P), size=n, p=_FOREIGN_P)
    country = np.where(rng.random(n) < _UK_CUSTOMER_SHARE, _UK, foreign).astype(np.int64)
    # Skewed purchase intensity: many one-off buyers, a few wholesale whales.
    intensity = rng.lognormal(0.0, 1.15, n)
    # Lifetimes: most customers are there from the start; others join later; some churn.
    joins = np.where(rng.random(n) < 0.6, 0.0, rng.random(n))
    leaves = np.where(rng.random(n) < 0.75, 1.0, joins + rng.random(n) * (1.0 - joins))
    joins[0], leaves[0] = 0.0, 1.0  # never an empty fortnight
    mid = (np.arange(_BUCKETS) + 0.5) / _BUCKETS
    active = (joins[None, :] <= mid[:, None]) & (mid[:, None] <= leaves[None, :])
    cdf = np.cumsum(np.where(active, intensity[None, :], 0.0), axis=1)
    cdf /= cdf[:, -1:]
    return _Customers(ids=ids, country=country, bucket_cdf=cdf)


@dataclass(frozen=True)
class _Timeline:
    """Cumulative shop activity per minute; a line's position in the output picks its minute."""

    start: np.datetime64  # minute resolution
    cdf: np.ndarray  # float64 per minute, ends at 1.0
    minutes: int


@functools.lru_cache(maxsize=8)
def _timeline(start: str, days: int) -> _Timeline:
    day0 = np.datetime64(pd.Timestamp(start).date(), "D")
    dates = day0 + np.arange(days)
    months = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    weekday = (dates.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    day_of_month = (dates - dates.astype("datetime64[M]")).astype(np.int64) + 1
    closed = ((months == 12) & (day_of_month >= 24)) | ((months == 1) & (day_of_month <= 3))
    day_weight = _MONTH_FACTOR[months] * _WEEKDAY_FACTOR[weekday] * ~closed
    if day_weight.sum() == 0:  # e.g. a single Saturday: trade anyway rather than fail
        day_weight = np.ones(days)
    minute_weight = np.zeros(1440)
    for hour, weight in _HOUR_WEIGHT.items():
        minute_weight[hour * 60 : hour * 60 + 60] = weight / 60.0
    minute_weight[7 * 60 : 7 * 60 + 30] = 0.0
    minute_weight[20 * 60 + 31 : 21 * 60] = 0.0
    cdf = np.cumsum((day_weight[:, None] * minute_weight[None, :]).ravel())
    cdf /= cdf[-1]
    return _Timeline(start=day0.astype("datetime64[m]"), cdf=cdf, minutes=days * 1440)


# ----------------------------------------------------------------------------------------------------
# One chunk
# ----------------------------------------------------------------------------------------------------


def _lognormal_price(rng: np.random.Generator, median: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    raw = median * np.exp(sigma * rng.standard_normal(len(median)))
    return np.where(median < 0.01, np.round(raw, 3), np.round(raw, 2))


def _invoice_lengths(rng: np.random.Generator, kinds: np.ndarray) -> np.ndarray:
    """Lines per invoice: customer baskets median 13, guest (dotcom) orders bigger, cancellations small."""
    k = len(kinds)
    cust = np.clip(np.rint(rng.lognormal(np.log(13.0), 0.95, k)), 1, 675)
    guest = np.clip(np.rint(rng.lognormal(np.log(25.0), 1.1, k)), 1, 675)
    cancel = np.minimum(rng.geometric(0.45, k), 45)
    lengths = np.where(kinds == _CUST_SALE, cust, np.where(kinds == _GUEST_SALE, guest, 1))
    return np.where(kinds == _CANCEL, cancel, lengths).astype(np.int64)


def _plan_invoices(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Invoice kinds, line counts and special-invoice ids (or -1), totalling exactly ``n`` lines."""
    forced: list[tuple[int, int, int]] = []  # (kind, lines, special id)
    if n >= MIN_CHUNK_FOR_QUIRKS:
        forced += [(_CUST_SALE, 4, -1), (_CUST_SALE, 3, -1), (_GUEST_SALE, 4, -1)]
        forced += [(_STOCK_ADJ, 1, -1), (_CANCEL, 2, -1)]
        forced += [(_SPECIAL, 1, i) for i, s in enumerate(_SPECIAL_INVOICES) if s.forced]
        forced += [(_HUGE_SALE, 1, -1), (_HUGE_CANCEL, 1, -1)]  # must stay neighbours
    n_random = n - sum(lines for _, lines, _ in forced)

    base_kinds = np.array(list(_KIND_P), dtype=np.int64)
    p = np.concatenate([np.array(list(_KIND_P.values())), [s.rate for s in _SPECIAL_INVOICES]])
    p /= p.sum()
    kinds_parts, lengths_parts, special_parts = [], [], []
    total = 0
    while total < n_random:
        draw = rng.choice(len(p), size=max(16, int((n_random - total) / 17 * 1.2)), p=p)
        is_base = draw < len(base_kinds)
        kinds = np.where(is_base, base_kinds[np.minimum(draw, len(base_kinds) - 1)], _SPECIAL)
        lengths = _invoice_lengths(rng, kinds)
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
    first_sale = np.flatnonzero(kinds == _CUST_SALE)[:1]
    head = np.arange(len(kinds)) < (first_sale[0] if len(first_sale) else len(kinds))
    kinds = np.where(head & (kinds == _CANCEL), _CUST_SALE, kinds)
    return kinds, lengths, special


def _make_chunk(
    rng: np.random.Generator,
    n: int,
    line_offset: int,
    rows: int,
    first_invoice_no: int,
    catalogue: _Catalogue,
    customers: _Customers,
    timeline: _Timeline,
) -> tuple[pd.DataFrame, int]:
    """``n`` lines from ``line_offset`` on (of ``rows``), and the invoice number to continue from."""
    kinds, lengths, special = _plan_invoices(rng, n)
    n_inv = len(kinds)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)

    # Time: the position of an invoice's first line in the whole output picks its minute.
    minute = np.searchsorted(timeline.cdf, (line_offset + starts) / rows, side="right")
    minute = np.minimum(minute, timeline.minutes - 1)
    inv_dates = (timeline.start + minute.astype("timedelta64[m]")).astype("datetime64[us]")
    bucket = np.minimum(minute * _BUCKETS // timeline.minutes, _BUCKETS - 1)

    # Invoice numbers increase with time, with gaps (numbers taken by other systems).
    numbers = first_invoice_no + np.cumsum(1 + rng.poisson(0.69, n_inv)) - 1
    next_invoice_no = int(numbers[-1]) + 1 if n_inv else first_invoice_no

    # Customers: drawn among those active in the invoice's fortnight, in proportion to their intensity.
    n_cust = len(customers.ids)
    cust = np.empty(n_inv, dtype=np.int64)
    u = rng.random(n_inv)
    for b in np.unique(bucket):
        sel = bucket == b
        cust[sel] = np.minimum(np.searchsorted(customers.bucket_cdf[b], u[sel], side="right"), n_cust - 1)
    is_special = kinds == _SPECIAL
    spec_idx = np.maximum(special, 0)
    customer_share = np.array([s.customer_share for s in _SPECIAL_INVOICES])[spec_idx]
    has_cust = np.isin(kinds, [_CUST_SALE, _CANCEL, _HUGE_SALE, _HUGE_CANCEL])
    has_cust |= is_special & (rng.random(n_inv) < customer_share)
    guest_country = 1 + rng.choice(len(_FOREIGN_P), size=n_inv, p=_FOREIGN_P)
    guest_country = np.where(
        (kinds != _GUEST_SALE) | (rng.random(n_inv) < _GUEST_UK_SHARE), _UK, guest_country
    )
    country = np.where(has_cust, customers.country[cust], guest_country)
    huge_cancel = np.flatnonzero(kinds == _HUGE_CANCEL)  # undoes its sale: same customer
    cust[huge_cancel] = cust[huge_cancel - 1]
    country[huge_cancel] = country[huge_cancel - 1]

    # Lines: ordinary products first, then each special kind overwrites its lines.
    inv = np.repeat(np.arange(n_inv), lengths)
    pos = np.arange(n) - np.repeat(starts, lengths)
    is_last = pos == np.repeat(lengths, lengths) - 1
    multi = np.repeat(lengths >= 2, lengths)
    line_kind = kinds[inv]
    cust_sale = line_kind == _CUST_SALE
    guest_sale = line_kind == _GUEST_SALE
    sale = cust_sale | guest_sale

    item = rng.choice(len(catalogue.codes), size=n, p=catalogue.popularity)
    guest_qty = rng.choice(_GUEST_QTY, size=n, p=_GUEST_QTY_P)
    qty = np.where(guest_sale, guest_qty, rng.choice(_SALE_QTY, size=n, p=_SALE_QTY_P)).astype(np.int64)
    price = catalogue.prices[item]
    # Dotcom (guest) prices carry a markup; big customer orders often get a bulk price.
    price = np.where(guest_sale, np.round(price * 1.13, 2), price)
    bulk = cust_sale & (qty >= 48) & (rng.random(n) < 0.6)
    price = np.where(bulk, np.maximum(np.round(np.floor(price * 0.82 * 20) / 20, 2), 0.05), price)
    price = np.where(sale & (rng.random(n) < 0.0002), 0.0, price)  # the odd free item
    description = catalogue.descriptions[item]
    coded = np.zeros(n, dtype=bool)  # lines carrying a non-product code

    # Stock adjustments: no customer, price 0, description mostly missing or a stock-taker's note.
    adj = np.flatnonzero(line_kind == _STOCK_ADJ)
    item[adj] = rng.integers(0, catalogue.n_products, len(adj))
    size = np.ceil(rng.lognormal(np.log(20.0), 1.3, len(adj))).astype(np.int64)
    qty[adj] = np.where(rng.random(len(adj)) < 0.7, -size, size)
    price[adj] = 0.0
    mode = rng.random(len(adj))
    note = _STOCK_ADJ_WORDS[rng.integers(0, len(_STOCK_ADJ_WORDS), len(adj))]
    adj_desc = np.where(mode < 0.75, None, np.where(mode < 0.9, catalogue.descriptions[item[adj]], note))
    if len(adj) and n >= MIN_CHUNK_FOR_QUIRKS and not np.equal(adj_desc, None).any():
        adj_desc[0] = None
    description[adj] = adj_desc

    # Single-line special invoices.
    si = _SPECIAL_INVOICES
    spec_lines = np.flatnonzero(line_kind == _SPECIAL)
    which = special[inv[spec_lines]]
    item[spec_lines] = catalogue.special_invoice_item[which]
    description[spec_lines] = catalogue.descriptions[item[spec_lines]]
    qty[spec_lines] = np.array([s.quantity for s in si], dtype=np.int64)[which]
    medians = np.array([s.price_median for s in si])[which]
    amount = _lognormal_price(rng, medians, np.array([s.price_sigma for s in si])[which])
    negative = rng.random(len(spec_lines)) < np.array([s.negative_price_share for s in si])[which]
    price[spec_lines] = np.where(negative, -amount, amount)
    coded[spec_lines] = True

    # The +/-80,995 pair: one product bought and cancelled again.
    huge_sale = np.flatnonzero(line_kind == _HUGE_SALE)
    huge_cancel_lines = np.flatnonzero(line_kind == _HUGE_CANCEL)
    qty[huge_sale] = HUGE_QUANTITY
    qty[huge_cancel_lines] = -HUGE_QUANTITY
    price[huge_sale] = np.minimum(catalogue.prices[item[huge_sale]], 2.08)
    item[huge_cancel_lines] = item[huge_sale]
    price[huge_cancel_lines] = price[huge_sale]
    description[huge_cancel_lines] = description[huge_sale]

    def put(lines: np.ndarray, spec: _SpecialLine, item_id: int) -> None:
        item[lines] = item_id
        description[lines] = spec.description
        qty[lines] = rng.choice(np.array(spec.quantities, dtype=np.int64), size=len(lines))
        medians = np.full(len(lines), spec.price_median)
        price[lines] = _lognormal_price(rng, medians, np.full(len(lines), spec.price_sigma))
        coded[lines] = True

    # Postage and carriage on last lines of sales.
    line_country = country[inv]
    last_cust = np.flatnonzero(cust_sale & is_last & multi)
    r = rng.random(len(last_cust))
    foreign = line_country[last_cust] != _UK
    eire = line_country[last_cust] == _EIRE
    post = last_cust[(foreign & ~eire & (r < 0.45)) | (eire & (r < 0.2)) | (~foreign & (r < 0.003))]
    put(post, _POST, catalogue.post_item)
    price[post] = rng.choice(_POST_PRICES, size=len(post))
    put(last_cust[eire & (r >= 0.2) & (r < 0.4)], _C2, catalogue.c2_item)
    last_guest = np.flatnonzero(guest_sale & is_last & multi)
    put(last_guest[rng.random(len(last_guest)) < 0.3], _DOT, catalogue.dot_item)

    # Other non-product codes at random inside sales.
    sl = _SPECIAL_LINES
    for guest in (False, True):
        eligible = np.flatnonzero((guest_sale if guest else cust_sale) & ~coded)
        entries = [i for i, s in enumerate(sl) if s.guest == guest]
        draw = np.searchsorted(np.cumsum([sl[i].rate for i in entries]), rng.random(len(eligible)), "right")
        for e in np.unique(draw[draw < len(entries)]):
            put(eligible[draw == e], sl[entries[e]], int(catalogue.special_line_item[entries[e]]))

    if n >= MIN_CHUNK_FOR_QUIRKS:  # plant what chance left out
        present = set(catalogue.codes[item[coded]].tolist())
        plans: list[tuple[np.ndarray, _SpecialLine, int]] = []
        if _POST.code not in present:
            plans.append((cust_sale & is_last & multi, _POST, catalogue.post_item))
        if _C2.code not in present:
            plans.append((cust_sale & is_last & multi, _C2, catalogue.c2_item))
        if _DOT.code not in present:
            plans.append((guest_sale & is_last & multi, _DOT, catalogue.dot_item))
        for group in _FORCED_LINE_GROUPS:
            members = [i for i, s in enumerate(sl) if s.group == group]
            if not present.intersection(sl[i].code for i in members):
                pick = members[int(rng.integers(len(members)))]
                pool = (guest_sale if sl[pick].guest else cust_sale) & ~is_last
                plans.append((pool, sl[pick], int(catalogue.special_line_item[pick])))
        for pool, spec, item_id in plans:
            candidates = np.flatnonzero(pool & ~coded)
            if len(candidates):
                put(candidates[[rng.integers(len(candidates))]], spec, item_id)

    # Identical lines: the same item scanned twice on one invoice (a run copies the line before it).
    dup = sale & (pos > 0) & ~coded & (rng.random(n) < 0.009)
    if n >= MIN_CHUNK_FOR_QUIRKS and not dup.any():
        candidates = np.flatnonzero(sale & (pos > 0) & ~coded)
        if len(candidates):
            dup[candidates[rng.integers(len(candidates))]] = True
    source = np.maximum.accumulate(np.where(dup, 0, np.arange(n)))
    item, qty, price, description = item[source], qty[source], price[source], description[source]

    # Cancellations undo (part of) a recent sale, same customer and price; without one, a random product.
    cancel_inv = np.flatnonzero(kinds == _CANCEL)
    sale_inv = np.flatnonzero(kinds == _CUST_SALE)
    before = np.searchsorted(sale_inv, cancel_inv)  # customer sales earlier in this chunk
    back = np.minimum(rng.geometric(0.02, len(cancel_inv)) - 1, np.maximum(before - 1, 0))
    src_inv = np.full(len(cancel_inv), -1, dtype=np.int64)
    linked = before > 0
    src_inv[linked] = sale_inv[before[linked] - 1 - back[linked]]
    cust[cancel_inv[linked]] = cust[src_inv[linked]]
    country[cancel_inv[linked]] = country[src_inv[linked]]
    has_cust[cancel_inv[rng.random(len(cancel_inv)) < 0.04]] = False
    cancel_lines = np.flatnonzero(line_kind == _CANCEL)
    c_slot = np.searchsorted(cancel_inv, inv[cancel_lines])
    c_src = src_inv[c_slot]
    ok = c_src >= 0
    offset = rng.integers(0, 1 << 30, len(cancel_inv))[c_slot]
    safe_src = np.maximum(c_src, 0)
    src_line = starts[safe_src] + (offset + pos[cancel_lines]) % lengths[safe_src]
    take, src_line = cancel_lines[ok], src_line[ok]
    item[take] = item[src_line]
    price[take] = price[src_line]
    description[take] = description[src_line]
    partial = rng.random(len(take)) < 0.25
    part = np.maximum(1, np.floor(qty[src_line] * rng.random(len(take)))).astype(np.int64)
    qty[take] = np.where(partial, part, qty[src_line])
    qty[cancel_lines] = -np.abs(qty[cancel_lines])

    # Assemble.
    prefix = np.where(np.isin(kinds, [_CANCEL, _HUGE_CANCEL]), "C", "")
    prefix = np.where(is_special, np.array([s.prefix for s in si])[spec_idx], prefix)
    inv_no = np.char.add(prefix.astype("U1"), numbers.astype("U12")).astype(object)
    line_has_cust = has_cust[inv]
    customer_ids = np.where(line_has_cust, customers.ids[cust[inv]], 0).astype(np.int64)
    frame = pd.DataFrame(
        {
            "invoice_no": pd.array(inv_no[inv], dtype="str"),
            "stock_code": pd.array(catalogue.codes[item], dtype="str"),
            "description": pd.array(description, dtype="str"),
            "quantity": qty.astype(np.int64),
            "invoice_date": inv_dates[inv],
            "unit_price": price.astype(np.float64),
            "customer_id": pd.arrays.IntegerArray(customer_ids, ~line_has_cust),
            "country": pd.array(_COUNTRIES[country[inv]], dtype="str"),
        }
    )
    return frame, next_invoice_no


# ----------------------------------------------------------------------------------------------------
# Public API
# ----------------------------------------------------------------------------------------------------


def iter_sample_chunks(
    rows: int,
    seed: int,
    chunk_rows: int = 200_000,
    *,
    start: str = DEFAULT_START,
    days: int = DEFAULT_DAYS,
) -> Iterator[pd.DataFrame]:
    """Yield synthetic invoice lines in canonical columns, ``chunk_rows`` at a time, ``rows`` in total.

    Deterministic for ``(rows, seed, chunk_rows, start, days)``; memory is bounded by the chunk size. Each
    chunk of at least ``MIN_CHUNK_FOR_QUIRKS`` lines holds every quirk, so the rare ones (bad debt, the
    80,995 pair) occur about once per chunk. ``customer_id`` is pandas ``Int64`` (missing for guests);
    ``invoice_date`` is ``datetime64[us]`` at minute resolution, shop-local, without time zone.
    """
    if rows < 0:
        raise ValueError(f"rows must be >= 0, got {rows}")
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be >= 1, got {chunk_rows}")
    if days < 1:
        raise ValueError(f"days must be >= 1, got {days}")
    catalogue = _catalogue(seed)
    customers = _customers(rows, seed)
    timeline = _timeline(str(start), days)
    invoice_no = FIRST_INVOICE_NO
    for index, offset in enumerate(range(0, rows, chunk_rows)):
        rng = np.random.default_rng([seed, 0x11E5, index])
        n = min(chunk_rows, rows - offset)
        frame, invoice_no = _make_chunk(rng, n, offset, rows, invoice_no, catalogue, customers, timeline)
        yield frame


def _output_format(path: Path) -> str:
    name = path.name.lower()
    for suffix in (".csv.gz", ".csv", ".parquet", ".xlsx"):
        if name.endswith(suffix):
            return suffix
    raise ValueError(f"unsupported sample format for {path.name!r}: use .csv, .csv.gz, .parquet or .xlsx")


def write_sample(
    path: str | os.PathLike[str],
    rows: int,
    seed: int,
    spelling: str = "uci2",
    chunk_rows: int = 200_000,
    *,
    start: str = DEFAULT_START,
    days: int = DEFAULT_DAYS,
    encoding: str = "utf-8",
    float_customer_ids: bool = False,
) -> int:
    """Stream a sample file in the format its suffix names; return the number of lines written.

    CSV follows the real export: ``2009-12-01 07:45:00`` dates, prices as Python prints floats (``2.1``,
    ``18.0``), integer customer ids (``13085``, or ``13085.0`` with ``float_customer_ids``), empty fields
    for missing values. ``encoding`` applies to CSV only (``utf-8-sig`` writes a BOM; ``latin-1`` works).
    Identical arguments give identical bytes (the gzip timestamp is zeroed).
    """
    if spelling not in HEADER_SPELLINGS:
        raise ValueError(f"unknown spelling {spelling!r}; choose from {sorted(HEADER_SPELLINGS)}")
    target = Path(path)
    fmt = _output_format(target)
    if fmt == ".xlsx" and rows > EXCEL_MAX_ROWS:
        raise ValueError(f"an .xlsx sheet holds at most {EXCEL_MAX_ROWS} lines, asked for {rows}")
    target.parent.mkdir(parents=True, exist_ok=True)
    header = HEADER_SPELLINGS[spelling]
    chunks = iter_sample_chunks(rows, seed, chunk_rows, start=start, days=days)
    if fmt == ".parquet":
        return _write_parquet(target, chunks, header, float_customer_ids)
    if fmt == ".xlsx":
        return _write_xlsx(target, chunks, header, float_customer_ids, start)

    written = 0
    with open(target, "wb") as raw:
        binary = (
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=0)
            if fmt == ".csv.gz"
            else raw
        )
        with io.TextIOWrapper(binary, encoding=encoding, newline="") as text:
            text.write(",".join(header[c] for c in CANONICAL_COLUMNS) + "\n")
            for frame in chunks:
                if float_customer_ids:
                    frame["customer_id"] = frame["customer_id"].astype("float64")
                frame.to_csv(text, header=False, index=False, lineterminator="\n")
                written += len(frame)
    return written


def _write_parquet(
    target: Path, chunks: Iterator[pd.DataFrame], header: dict[str, str], float_customer_ids: bool
) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {
        "invoice_no": pa.string(),
        "stock_code": pa.string(),
        "description": pa.string(),
        "quantity": pa.int64(),
        "invoice_date": pa.timestamp("us"),
        "unit_price": pa.float64(),
        "customer_id": pa.float64() if float_customer_ids else pa.int64(),
        "country": pa.string(),
    }
    schema = pa.schema([pa.field(header[c], types[c]) for c in CANONICAL_COLUMNS])
    written = 0
    with pq.ParquetWriter(target, schema) as writer:
        for frame in chunks:
            if float_customer_ids:
                frame["customer_id"] = frame["customer_id"].astype("float64")
            table = pa.Table.from_pandas(frame.rename(columns=header), schema=schema, preserve_index=False)
            writer.write_table(table)
            written += len(frame)
    return written


def _write_xlsx(
    target: Path, chunks: Iterator[pd.DataFrame], header: dict[str, str], float_customer_ids: bool, start: str
) -> int:
    from openpyxl import Workbook

    year = pd.Timestamp(start).year
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(f"Year {year}-{year + 1}")
    sheet.append([header[c] for c in CANONICAL_COLUMNS])
    written = 0
    for frame in chunks:
        customers = frame["customer_id"].astype("float64" if float_customer_ids else "object")
        columns = [
            frame["invoice_no"].tolist(),
            frame["stock_code"].tolist(),
            [None if pd.isna(d) else d for d in frame["description"].tolist()],
            frame["quantity"].tolist(),
            frame["invoice_date"].dt.to_pydatetime().tolist(),
            frame["unit_price"].tolist(),
            [None if pd.isna(c) else c for c in customers.tolist()],
            frame["country"].tolist(),
        ]
        for row in zip(*columns, strict=True):
            sheet.append(row)
        written += len(frame)
    workbook.save(target)
    return written
