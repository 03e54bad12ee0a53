"""The product catalogue: stock codes, descriptions, list prices and popularity, stable for a seed.

Why per seed and not per size: a stock code must keep its description and price whatever the number of rows
or the chunking, so that samples of different sizes (and the OLTP simulator) agree on the products.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from retail_platform.sample_data.specials import C2, DOT, POST, SPECIAL_INVOICES, SPECIAL_LINES

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
class Catalogue:
    """Products first (one entry per stock code), then one entry per special-code rule ("M" has two)."""

    codes: np.ndarray  # object, str
    descriptions: np.ndarray  # object, str
    prices: np.ndarray  # float64 list price (0 for special codes)
    popularity: np.ndarray  # float64, sums to 1 over products, 0 for special codes
    n_products: int
    special_invoice_item: np.ndarray  # catalogue index per SPECIAL_INVOICES entry
    special_line_item: np.ndarray  # catalogue index per SPECIAL_LINES entry
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


def _stock_numbers(rng: np.random.Generator) -> np.ndarray:
    """About 3,600 distinct base stock numbers, spread over the real catalogue's ranges."""
    weights = np.array([w for _, _, w in _CODE_RANGES])
    counts = np.floor(3600 * weights / weights.sum()).astype(int)
    return np.sort(
        np.concatenate(
            [
                rng.choice(np.arange(lo, hi), size=min(c, hi - lo), replace=False)
                for (lo, hi, _), c in zip(_CODE_RANGES, counts, strict=True)
            ]
        )
    )


def _products(rng: np.random.Generator, numbers: np.ndarray) -> tuple[list[str], list[str], list[int]]:
    """Codes and descriptions per product, and the base number each came from; a few come in colours."""
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
    return codes, descriptions, base_of


def _sloppy(rng: np.random.Generator, descriptions: list[str]) -> np.ndarray:
    """Real descriptions are sloppy: trailing spaces are common, leading and doubled spaces occasional."""
    u = rng.random(len(descriptions))
    desc = np.array(descriptions, dtype=object)
    desc = np.where(u < 0.16, desc + " ", desc)
    desc = np.where((u >= 0.16) & (u < 0.165), " " + desc, desc)
    double = np.flatnonzero((u >= 0.165) & (u < 0.175))
    desc[double] = [d.replace(" ", "  ", 1) for d in desc[double]]
    return desc


def _list_prices(rng: np.random.Generator, n_base: int, base_of: list[int]) -> np.ndarray:
    """Lognormal around 2.4 with a long tail of furniture-like items; colour variants differ a little."""
    base_price = rng.lognormal(np.log(2.4), 0.75, n_base)
    tail = rng.random(n_base) < 0.008
    base_price[tail] = rng.lognormal(np.log(20.0), 0.8, int(tail.sum()))
    variation = rng.choice([1.0, 1.0, 1.0, 1.1, 0.9], len(base_of))
    return _shop_price(base_price[np.array(base_of)] * variation)


@functools.lru_cache(maxsize=8)
def build_catalogue(seed: int) -> Catalogue:
    """About 4,000 products with stable codes, descriptions, prices and popularity for this seed."""
    rng = np.random.default_rng([seed, 0xCA7])
    numbers = _stock_numbers(rng)
    codes, descriptions, base_of = _products(rng, numbers)
    n_products = len(codes)
    desc = _sloppy(rng, descriptions)
    prices = _list_prices(rng, len(numbers), base_of)
    # Popularity: Zipf-like over a random ranking; the top product takes about half a percent of lines.
    rank = rng.permutation(n_products)
    popularity = 1.0 / (rank + 20.0) ** 0.8

    specials: list[tuple[str, str]] = [(s.code, s.description) for s in SPECIAL_INVOICES]
    specials += [(s.code, s.description) for s in SPECIAL_LINES]
    specials += [(s.code, s.description) for s in (POST, C2, DOT)]
    n_si, n_sl = len(SPECIAL_INVOICES), len(SPECIAL_LINES)
    rules = n_products + n_si + n_sl
    return Catalogue(
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
