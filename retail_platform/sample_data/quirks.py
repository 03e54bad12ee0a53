"""Non-product codes inside ordinary sales, the planting of rare quirks, and lines scanned twice.

Why planting: a chunk of ``MIN_CHUNK_FOR_QUIRKS`` lines or more must show every quirk of the real data, so
whatever chance left out is put on one suitable line afterwards.
"""

from __future__ import annotations

import numpy as np

from retail_platform.sample_data.calibration import EIRE, MIN_CHUNK_FOR_QUIRKS, UK
from retail_platform.sample_data.catalogue import Catalogue
from retail_platform.sample_data.invoices import Invoices, Layout
from retail_platform.sample_data.lines import Lines
from retail_platform.sample_data.specials import (
    C2,
    DOT,
    FORCED_LINE_GROUPS,
    POST,
    POST_PRICES,
    SPECIAL_LINES,
    SpecialLine,
)


def postage(
    rng: np.random.Generator, lines: Lines, layout: Layout, invoices: Invoices, catalogue: Catalogue
) -> None:
    """Postage for foreign customers, carriage for Ireland, dotcom postage on guest orders: last lines."""
    line_country = invoices.country[layout.inv]
    last_cust = np.flatnonzero(layout.cust_sale & layout.is_last & layout.multi)
    r = rng.random(len(last_cust))
    foreign = line_country[last_cust] != UK
    eire = line_country[last_cust] == EIRE
    post = last_cust[(foreign & ~eire & (r < 0.45)) | (eire & (r < 0.2)) | (~foreign & (r < 0.003))]
    lines.put(rng, post, POST, catalogue.post_item)
    lines.price[post] = rng.choice(POST_PRICES, size=len(post))
    lines.put(rng, last_cust[eire & (r >= 0.2) & (r < 0.4)], C2, catalogue.c2_item)
    last_guest = np.flatnonzero(layout.guest_sale & layout.is_last & layout.multi)
    lines.put(rng, last_guest[rng.random(len(last_guest)) < 0.3], DOT, catalogue.dot_item)


def random_codes(rng: np.random.Generator, lines: Lines, layout: Layout, catalogue: Catalogue) -> None:
    """Other non-product codes (manual lines, vouchers, dotcom odds) at random inside sales."""
    sl = SPECIAL_LINES
    for guest in (False, True):
        eligible = np.flatnonzero((layout.guest_sale if guest else layout.cust_sale) & ~lines.coded)
        entries = [i for i, s in enumerate(sl) if s.guest == guest]
        draw = np.searchsorted(np.cumsum([sl[i].rate for i in entries]), rng.random(len(eligible)), "right")
        for e in np.unique(draw[draw < len(entries)]):
            lines.put(rng, eligible[draw == e], sl[entries[e]], int(catalogue.special_line_item[entries[e]]))


def plant_missing_codes(rng: np.random.Generator, lines: Lines, layout: Layout, catalogue: Catalogue) -> None:
    """In a chunk big enough, put each rule-placed code and each forced group chance left out on one line."""
    if len(layout.inv) < MIN_CHUNK_FOR_QUIRKS:
        return
    sl = SPECIAL_LINES
    last_of_cust = layout.cust_sale & layout.is_last & layout.multi
    last_of_guest = layout.guest_sale & layout.is_last & layout.multi
    present = set(catalogue.codes[lines.item[lines.coded]].tolist())
    plans: list[tuple[np.ndarray, SpecialLine, int]] = [
        (pool, spec, item_id)
        for pool, spec, item_id in (
            (last_of_cust, POST, catalogue.post_item),
            (last_of_cust, C2, catalogue.c2_item),
            (last_of_guest, DOT, catalogue.dot_item),
        )
        if spec.code not in present
    ]
    for group in FORCED_LINE_GROUPS:
        members = [i for i, s in enumerate(sl) if s.group == group]
        if not present.intersection(sl[i].code for i in members):
            pick = members[int(rng.integers(len(members)))]
            pool = (layout.guest_sale if sl[pick].guest else layout.cust_sale) & ~layout.is_last
            plans.append((pool, sl[pick], int(catalogue.special_line_item[pick])))
    for pool, spec, item_id in plans:
        candidates = np.flatnonzero(pool & ~lines.coded)
        if len(candidates):
            lines.put(rng, candidates[[rng.integers(len(candidates))]], spec, item_id)


def duplicate_scans(rng: np.random.Generator, lines: Lines, layout: Layout) -> Lines:
    """Identical lines: the same item scanned twice on one invoice (a run copies the line before it)."""
    n = len(layout.inv)
    eligible = layout.sale & (layout.pos > 0) & ~lines.coded
    dup = eligible & (rng.random(n) < 0.009)
    if n >= MIN_CHUNK_FOR_QUIRKS and not dup.any():
        candidates = np.flatnonzero(eligible)
        if len(candidates):
            dup[candidates[rng.integers(len(candidates))]] = True
    return lines.copied(np.maximum.accumulate(np.where(dup, 0, np.arange(n))))
