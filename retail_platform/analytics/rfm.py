"""RFM scoring and segmentation, exactly as the seed notebook defines them (SPEC 4.3).

Pure pandas, no database and no Dagster: the asset feeds it per-customer facts computed in SQL
(``sql/queries/rfm_customer_facts.sql``) and writes the result back with COPY.
"""

from __future__ import annotations

import re

import pandas as pd

SCORE_BINS = 5

# R then F score digits -> segment; the first matching pattern wins (SPEC 4.3).
SEGMENT_RULES: tuple[tuple[str, str], ...] = (
    (r"[1-2][1-2]", "Hibernating"),
    (r"[1-2][3-4]", "At Risk"),
    (r"[1-2]5", "Can't Lose"),
    (r"3[1-2]", "About to Sleep"),
    (r"33", "Need Attention"),
    (r"[3-4][4-5]", "Loyal Customers"),
    (r"41", "Promising"),
    (r"51", "New Customers"),
    (r"[4-5][2-3]", "Potential Loyalists"),
    (r"5[4-5]", "Champions"),
)
SEGMENTS: tuple[str, ...] = tuple(segment for _, segment in SEGMENT_RULES)
_COMPILED = tuple((re.compile(pattern), segment) for pattern, segment in SEGMENT_RULES)

FACT_COLUMNS = ("customer_id", "last_purchase", "frequency", "monetary")
SCORE_COLUMNS = (
    "customer_id",
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "rfm_score",
    "segment",
    "last_purchase",
    "snapshot_date",
)


def segment_for(r_score: int, f_score: int) -> str:
    """The segment of an R and F score pair; every pair of 1..5 digits matches exactly one rule."""
    key = f"{r_score}{f_score}"
    for pattern, segment in _COMPILED:
        if pattern.fullmatch(key):
            return segment
    raise ValueError(f"no RFM segment for R={r_score} F={f_score}")


def default_snapshot(last_purchases: pd.Series) -> pd.Timestamp:
    """Midnight after the day of the latest purchase: the latest customer gets recency 0."""
    return pd.Timestamp(last_purchases.max()).normalize() + pd.Timedelta(days=1)


def quantile_scores(values: pd.Series, labels: list[int]) -> pd.Series:
    """``pandas.qcut`` into five bins with the given labels.

    When ties make the bin edges non-unique (qcut refuses them: few customers or many equal values), the
    values' ranks in order of appearance are binned instead, the same device SPEC 4.3 uses for frequency.
    A single customer gets the middle label.
    """
    if len(values) == 0:
        return pd.Series([], dtype="int64", index=values.index)
    if len(values) == 1:
        return pd.Series([labels[len(labels) // 2]], index=values.index, dtype="int64")
    try:
        binned = pd.qcut(values, SCORE_BINS, labels=labels)
    except ValueError:
        binned = pd.qcut(values.rank(method="first"), SCORE_BINS, labels=labels)
    return binned.astype("int64")


def score_customers(facts: pd.DataFrame, snapshot: pd.Timestamp | None = None) -> pd.DataFrame:
    """Recency, frequency, monetary, their 1..5 scores, ``rfm_score`` and ``segment``, one row per customer.

    ``facts`` has ``customer_id``, ``last_purchase``, ``frequency`` and ``monetary`` per customer.
    """
    missing = [column for column in FACT_COLUMNS if column not in facts.columns]
    if missing:
        raise ValueError(f"RFM facts lack columns {missing}")
    frame = facts.loc[:, list(FACT_COLUMNS)].sort_values("customer_id", kind="stable").reset_index(drop=True)
    frame["last_purchase"] = pd.to_datetime(frame["last_purchase"])
    if frame.empty:
        return pd.DataFrame(columns=list(SCORE_COLUMNS))
    snapshot = pd.Timestamp(snapshot) if snapshot is not None else default_snapshot(frame["last_purchase"])
    frame["recency_days"] = (snapshot - frame["last_purchase"]).dt.days.astype("int64")
    frame["frequency"] = frame["frequency"].astype("int64")
    monetary = frame["monetary"].astype("float64")
    frame["r_score"] = quantile_scores(frame["recency_days"], [5, 4, 3, 2, 1])
    frame["f_score"] = quantile_scores(frame["frequency"].rank(method="first"), [1, 2, 3, 4, 5])
    frame["m_score"] = quantile_scores(monetary, [1, 2, 3, 4, 5])
    frame["rfm_score"] = (
        frame["r_score"].astype(str) + frame["f_score"].astype(str) + frame["m_score"].astype(str)
    )
    frame["segment"] = [segment_for(r, f) for r, f in zip(frame["r_score"], frame["f_score"], strict=True)]
    frame["snapshot_date"] = snapshot
    return frame.loc[:, list(SCORE_COLUMNS)]


def facts_from_lines(lines: pd.DataFrame) -> pd.DataFrame:
    """Per-customer facts from order lines, filtered as SPEC 4.3 says; the reference for the SQL query."""
    amount = lines["quantity"] * lines["unit_price"]
    purchases = lines[
        lines["customer_id"].notna() & (lines["quantity"] > 0) & (amount > 0) & lines["description"].notna()
    ].assign(amount=amount)
    grouped = purchases.groupby("customer_id")
    facts = pd.DataFrame(
        {
            "last_purchase": grouped["invoice_date"].max(),
            "frequency": grouped["invoice_no"].nunique(),
            "monetary": grouped["amount"].sum(),
        }
    ).reset_index()
    return facts.loc[:, list(FACT_COLUMNS)]
