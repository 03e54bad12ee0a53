"""Interactive Altair charts in the PNG charts' palette (``retail_platform.analytics.chart_style``), so the
dashboard and the slides look like one product. Tooltips carry the figures formatted for people."""

from __future__ import annotations

import altair as alt
import pandas as pd

from retail_platform.analytics.chart_style import (
    GRID,
    HIGHLIGHT,
    INK,
    NEGATIVE,
    POSITIVE,
    PRIMARY,
    SECONDARY,
    SEGMENT_COLORS,
)
from retail_platform.dashboard import formatting as fmt

MONEY_AXIS = alt.Axis(labelExpr="(datum.value < 0 ? '-£' : '£') + format(abs(datum.value), ',.0f')")
COUNT_AXIS = alt.Axis(format=",.0f")
HEIGHT = 320


def _style(chart: alt.Chart) -> alt.Chart:
    return chart.configure_axis(
        gridColor=GRID, labelColor=INK, titleColor=INK, domainColor="#999999"
    ).configure_view(strokeWidth=0)


def _x(data: pd.DataFrame, granularity: str) -> alt.X:
    """Months as ordered labels (one band each, 'Dec 2010'); days on a time axis."""
    if granularity == "month":
        return alt.X("when:N", sort=list(data["when"]), title=None, axis=alt.Axis(labelAngle=-40))
    return alt.X("yearmonthdate(period):T", title=None, axis=alt.Axis(format="%d %b %Y", labelAngle=-40))


def net_sales(frame: pd.DataFrame, granularity: str = "month") -> alt.Chart:
    """Net sales per month (bars, red when negative) or per day (a line)."""
    data = frame.assign(label=frame["net_sales"].map(fmt.money), when=frame["period"].map(_when(granularity)))
    x = _x(data, granularity)
    tooltip = [alt.Tooltip("when:N", title="Period"), alt.Tooltip("label:N", title="Net sales")]
    y = alt.Y("net_sales:Q", title="Net sales (£)", axis=MONEY_AXIS)
    if granularity == "month":
        color = alt.condition("datum.net_sales < 0", alt.value(NEGATIVE), alt.value(PRIMARY))
        chart = alt.Chart(data).mark_bar().encode(x=x, y=y, color=color, tooltip=tooltip)
    else:
        chart = alt.Chart(data).mark_line(color=PRIMARY, point=False).encode(x=x, y=y, tooltip=tooltip)
    return _style(chart.properties(height=HEIGHT))


def orders(frame: pd.DataFrame, granularity: str = "month") -> alt.Chart:
    """Placed and canceled orders, side by side per month or as two lines per day."""
    long = _counts_by_kind(
        frame, {"placed_orders": "Placed", "canceled_orders": "Canceled"}, "orders", granularity
    )
    encoding = {
        "x": _x(long.drop_duplicates("when"), granularity),
        "y": alt.Y("orders:Q", title="Orders (invoices)", axis=COUNT_AXIS),
        "color": _kind_color(["Placed", "Canceled"], [PRIMARY, NEGATIVE]),
        "tooltip": [
            alt.Tooltip("when:N", title="Period"),
            alt.Tooltip("kind:N", title="Orders"),
            alt.Tooltip("label:N", title="Invoices"),
        ],
    }
    if granularity == "month":
        chart = (
            alt.Chart(long)
            .mark_bar()
            .encode(xOffset=alt.XOffset("kind:N", sort=["Placed", "Canceled"]), **encoding)
        )
    else:
        chart = alt.Chart(long).mark_line().encode(**encoding)
    return _style(chart.properties(height=HEIGHT))


def growth(frame: pd.DataFrame) -> alt.Chart:
    """Month-over-month growth, green up and red down."""
    data = frame.dropna(subset=["sales_growth_pct"])
    data = data.assign(
        label=data["sales_growth_pct"].map(lambda v: fmt.pct(v, signed=True)),
        when=data["period"].map(fmt.month_label),
    )
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=_x(data, "month"),
            y=alt.Y("sales_growth_pct:Q", title="Growth vs previous month (%)"),
            color=alt.condition("datum.sales_growth_pct < 0", alt.value(NEGATIVE), alt.value(POSITIVE)),
            tooltip=[alt.Tooltip("when:N", title="Month"), alt.Tooltip("label:N", title="Growth")],
        )
        .properties(height=HEIGHT)
    )
    return _style(chart)


def customers(frame: pd.DataFrame) -> alt.Chart:
    """Existing and new customers stacked per month, so acquisition and retention are read together."""
    long = _counts_by_kind(
        frame, {"existing_customers": "Existing", "new_customers": "New"}, "customers", "month"
    )
    chart = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=_x(long.drop_duplicates("when"), "month"),
            y=alt.Y("customers:Q", title="Active customers", axis=COUNT_AXIS, stack="zero"),
            color=_kind_color(["Existing", "New"], [PRIMARY, SECONDARY]),
            order=alt.Order("kind:N", sort="ascending"),
            tooltip=[
                alt.Tooltip("when:N", title="Month"),
                alt.Tooltip("kind:N", title="Customers"),
                alt.Tooltip("label:N", title="Count"),
            ],
        )
        .properties(height=HEIGHT)
    )
    return _style(chart)


def rfm_grid(frame: pd.DataFrame) -> alt.Chart:
    """Recency score (rows, 5 = most recent on top) against frequency score, customers per cell."""
    data = frame.assign(label=frame["customers"].map(fmt.count), spend=frame["mean_monetary"].map(fmt.money))
    base = alt.Chart(data).encode(
        x=alt.X("f_score:O", title="Frequency score (5 = most orders)", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("r_score:O", title="Recency score (5 = most recent)", sort="descending"),
    )
    cells = base.mark_rect(stroke="white").encode(
        color=alt.Color("customers:Q", title="Customers", scale=alt.Scale(range=["#eef4f9", PRIMARY])),
        tooltip=[
            alt.Tooltip("r_score:O", title="R"),
            alt.Tooltip("f_score:O", title="F"),
            alt.Tooltip("segment:N", title="Segment"),
            alt.Tooltip("label:N", title="Customers"),
            alt.Tooltip("spend:N", title="Mean spend"),
        ],
    )
    labels = base.mark_text(fontSize=13).encode(
        text="label:N",
        color=alt.condition(
            f"datum.customers > {float(data['customers'].max() or 0) / 2}", alt.value("white"), alt.value(INK)
        ),
    )
    return _style((cells + labels).properties(height=HEIGHT))


def segments(frame: pd.DataFrame) -> alt.Chart:
    """Customers per segment, largest on top, in the segments' semantic colours."""
    data = frame.assign(
        label=frame["customers"].map(fmt.count),
        share=frame["share_of_customers"].map(fmt.share),
        value=frame["total_monetary"].map(fmt.money),
    )
    order = list(data.sort_values("customers", ascending=False)["segment"])
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("segment:N", sort=order, title=None),
            x=alt.X("customers:Q", title="Customers", axis=COUNT_AXIS),
            color=alt.Color(
                "segment:N",
                legend=None,
                scale=alt.Scale(domain=list(SEGMENT_COLORS), range=list(SEGMENT_COLORS.values())),
            ),
            tooltip=[
                alt.Tooltip("segment:N", title="Segment"),
                alt.Tooltip("label:N", title="Customers"),
                alt.Tooltip("share:N", title="Share"),
                alt.Tooltip("value:N", title="Total spend"),
            ],
        )
        .properties(height=HEIGHT)
    )
    return _style(chart)


def ranked_bars(frame: pd.DataFrame, value: str, label: str, title: str, money: bool = True) -> alt.Chart:
    """Horizontal bars of ``value`` per ``label``, in the frame's order (largest first)."""
    formatter = fmt.money if money else fmt.count
    data = frame.assign(text=frame[value].map(formatter))
    chart = (
        alt.Chart(data)
        .mark_bar(color=PRIMARY)
        .encode(
            y=alt.Y(
                f"{label}:N",
                sort=list(data[label]),
                title=None,
                axis=alt.Axis(labelLimit=260, labelOverlap=False),
            ),
            x=alt.X(f"{value}:Q", title=title, axis=MONEY_AXIS if money else COUNT_AXIS),
            tooltip=[alt.Tooltip(f"{label}:N", title=""), alt.Tooltip("text:N", title=title)],
        )
        .properties(height=max(160, 26 * len(data)))
    )
    return _style(chart)


def customer_history(frame: pd.DataFrame) -> alt.Chart:
    """A customer's spend per month: purchases up, cancellations down."""
    monthly = (
        frame.assign(period=pd.to_datetime(frame["invoice_date"]).dt.to_period("M").dt.to_timestamp())
        .groupby("period", as_index=False)["amount"]
        .sum()
    )
    monthly["label"] = monthly["amount"].map(fmt.money)
    monthly["when"] = monthly["period"].map(fmt.month_label)
    chart = (
        alt.Chart(monthly)
        .mark_bar()
        .encode(
            x=_x(monthly, "month"),
            y=alt.Y("amount:Q", title="Spend (£)", axis=MONEY_AXIS),
            color=alt.condition("datum.amount < 0", alt.value(NEGATIVE), alt.value(HIGHLIGHT)),
            tooltip=[alt.Tooltip("when:N", title="Month"), alt.Tooltip("label:N", title="Spend")],
        )
        .properties(height=240)
    )
    return _style(chart)


def _when(granularity: str):
    return fmt.month_label if granularity == "month" else fmt.day_label


def _counts_by_kind(
    frame: pd.DataFrame, kinds: dict[str, str], value_name: str, granularity: str
) -> pd.DataFrame:
    """The ``kinds`` columns (name -> label) as one long frame of (period, kind, value, label, when), so
    several counts share one chart with a colour per kind."""
    long = frame.melt(id_vars=["period"], value_vars=list(kinds), var_name="kind", value_name=value_name)
    long["kind"] = long["kind"].map(kinds)
    long["label"] = long[value_name].map(fmt.count)
    long["when"] = long["period"].map(_when(granularity))
    return long


def _kind_color(kinds: list[str], colors: list[str]) -> alt.Color:
    """One colour per kind, in the legend above the chart."""
    return alt.Color(
        "kind:N", title=None, scale=alt.Scale(domain=kinds, range=colors), legend=alt.Legend(orient="top")
    )
