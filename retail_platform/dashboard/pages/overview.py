"""Overview: the latest month's net sales, placed orders, active and new customers, against the previous month
and the same month a year before (marts.monthly_kpis)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from retail_platform.dashboard import charts, data
from retail_platform.dashboard import formatting as fmt
from retail_platform.dashboard.layout import nothing_to_show

HEADLINES: tuple[tuple[str, str, Callable[[object], str]], ...] = (
    ("net_sales", "Net sales", fmt.money),
    ("placed_orders", "Placed orders", fmt.count),
    ("active_customers", "Active customers", fmt.count),
    ("new_customers", "New customers", fmt.count),
)


def month_row(kpis: pd.DataFrame, month: pd.Timestamp) -> pd.Series | None:
    """The KPI row of ``month``, or None when that month has no sales."""
    rows = kpis[kpis["month"] == month]
    return None if rows.empty else rows.iloc[0]


def comparison_text(current: pd.Series, other: pd.Series | None, field: str, month: pd.Timestamp) -> str:
    """'+12.3% vs Nov 2010', or why there is nothing to compare with."""
    change = fmt.change_pct(current[field], other[field]) if other is not None else None
    if change is None:
        return f"no figure for {fmt.month_label(month)}"
    return f"{fmt.pct(change, signed=True)} vs {fmt.month_label(month)}"


def _headline_month(kpis: pd.DataFrame, last_day: pd.Timestamp | None) -> pd.Timestamp:
    """The latest month, or the latest complete one when the reader asks for it and the latest is partial."""
    latest = kpis["month"].iloc[-1]
    partial = last_day is not None and last_day < latest + pd.offsets.MonthEnd(0)
    if partial:
        st.caption(
            f"Data runs to {fmt.day_label(last_day)}: {fmt.month_label(latest)} is a partial month, so its "
            "figures are lower than a full month's."
        )
        if len(kpis) > 1 and st.toggle("Show the latest complete month instead", key="complete_month"):
            return kpis["month"].iloc[-2]
    return latest


def render() -> None:
    st.title("Overview")
    kpis = data.frame("monthly_kpis")
    if nothing_to_show(kpis, "No sales loaded yet: run the platform (`retail-platform run`) and come back."):
        return
    kpis["month"] = pd.to_datetime(kpis["month"])
    span = data.row("data_span")
    last_day = pd.Timestamp(span["last_day"]) if span is not None and pd.notna(span["last_day"]) else None
    month = _headline_month(kpis, last_day)
    current = month_row(kpis, month)
    previous_month, year_before_month = month - pd.DateOffset(months=1), month - pd.DateOffset(years=1)
    previous, year_before = month_row(kpis, previous_month), month_row(kpis, year_before_month)
    st.subheader(fmt.month_label(month))
    for column, (field, label, formatter) in zip(st.columns(len(HEADLINES)), HEADLINES, strict=True):
        with column:
            change = fmt.change_pct(current[field], previous[field]) if previous is not None else None
            st.metric(
                label,
                formatter(current[field]),
                delta=None if change is None else comparison_text(current, previous, field, previous_month),
                border=True,
            )
            st.caption(f"Year on year: {comparison_text(current, year_before, field, year_before_month)}")

    left, right = st.columns(2)
    series = kpis.rename(columns={"month": "period"})
    with left:
        st.markdown("**Net sales per month**")
        st.altair_chart(charts.net_sales(series, "month"), width="stretch")
    with right:
        st.markdown("**Active customers per month**: existing and new")
        st.altair_chart(charts.customers(series), width="stretch")
    st.caption(
        "Net sales: every loaded line (cancellations and adjustments included). Placed orders: distinct invoices "
        "that are not cancellations or adjustments. New customers: first seen that month."
    )


if __name__ == "__main__":
    render()
