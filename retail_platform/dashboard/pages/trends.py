"""Trends: monthly or daily sales, placed orders and cancellations, for a date range and one country or all
(marts.daily_country_sales; the country list from marts.sales_by_country)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from retail_platform.dashboard import charts, data
from retail_platform.dashboard import formatting as fmt
from retail_platform.dashboard.layout import nothing_to_show, show_table

ALL_COUNTRIES = "All countries"
MEASURES = ("net_sales", "placed_orders", "canceled_orders")


def monthly(daily: pd.DataFrame) -> pd.DataFrame:
    """The days summed into calendar months, with month-over-month growth of net sales."""
    months = (
        daily.assign(period=pd.to_datetime(daily["day"]).dt.to_period("M").dt.to_timestamp())
        .groupby("period", as_index=False)[list(MEASURES)]
        .sum()
    )
    months["sales_growth_pct"] = [
        fmt.change_pct(current, previous)
        for current, previous in zip(months["net_sales"], months["net_sales"].shift(), strict=True)
    ]
    return months


def _filters(first_day: date, last_day: date) -> tuple[date, date, str | None, str]:
    """Date range, country (None = all) and granularity chosen above the charts."""
    countries = data.frame("countries")
    left, middle, right = st.columns([2, 2, 1])
    chosen = left.date_input(
        "Dates", value=(first_day, last_day), min_value=first_day, max_value=last_day, key="dates"
    )
    start, end = (
        (chosen[0], chosen[-1]) if isinstance(chosen, tuple | list) and chosen else (first_day, last_day)
    )
    country = middle.selectbox("Country", [ALL_COUNTRIES, *countries["country"]], key="country")
    granularity = right.radio("Per", ["month", "day"], horizontal=True, key="granularity")
    return start, end, None if country == ALL_COUNTRIES else country, granularity


def render() -> None:
    st.title("Trends")
    span = data.row("data_span")
    if span is None or pd.isna(span["first_day"]):
        st.info("No sales loaded yet.")
        return
    start, end, country, granularity = _filters(span["first_day"], span["last_day"])
    daily = data.frame("daily_sales", first_day=start, last_day=end, country=country)
    where = country or ALL_COUNTRIES
    st.caption(f"{where}, {fmt.day_label(start)} to {fmt.day_label(end)}")
    if nothing_to_show(daily, "No sales in this range."):
        return
    totals = daily[list(MEASURES)].sum()
    rate = 100 * totals["canceled_orders"] / totals["placed_orders"] if totals["placed_orders"] else None
    for column, (label, value) in zip(
        st.columns(4),
        (
            ("Net sales", fmt.money(totals["net_sales"])),
            ("Placed orders", fmt.count(totals["placed_orders"])),
            ("Canceled orders", fmt.count(totals["canceled_orders"])),
            ("Cancellations per 100 orders", fmt.pct(rate)),
        ),
        strict=True,
    ):
        column.metric(label, value, border=True)

    series = monthly(daily) if granularity == "month" else daily.rename(columns={"day": "period"})
    series["period"] = pd.to_datetime(series["period"])
    st.markdown(f"**Net sales per {granularity}**")
    st.altair_chart(charts.net_sales(series, granularity), width="stretch")
    st.markdown(f"**Placed and canceled orders per {granularity}**")
    st.altair_chart(charts.orders(series, granularity), width="stretch")
    if granularity == "month" and series["sales_growth_pct"].notna().any():
        st.markdown("**Net sales growth against the previous month**")
        st.altair_chart(charts.growth(series), width="stretch")
    with st.expander("The figures"):
        label = fmt.month_label if granularity == "month" else fmt.day_label
        show_table(
            series,
            {
                "period": (granularity.capitalize(), label),
                "net_sales": ("Net sales", fmt.money),
                "placed_orders": ("Placed orders", fmt.count),
                "canceled_orders": ("Canceled orders", fmt.count),
            },
        )
    st.caption(
        "A partial first or last month (the range cuts it) shows only its days in range. Net sales include "
        "cancellations and adjustments."
    )


if __name__ == "__main__":
    render()
