"""Slide-ready PNG charts for the retail analytics (SPEC section 4).

Pure plotting functions: pandas in, PNG out. They build `matplotlib.figure.Figure` objects directly instead
of using pyplot, so they need no GUI backend, keep no global figure registry and are safe to call from
concurrent Dagster runs. Each function writes the PNG (creating parent directories) and returns its path.
Empty inputs produce a "No data yet" picture rather than an error, so downstream assets always materialize.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Patch
from matplotlib.patheffects import withStroke
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter

from retail_platform.analytics.chart_style import (
    CURRENCY,
    DENSE_BARS,
    EN_DASH,
    HIGHLIGHT,
    INK,
    MINUS,
    MUTED,
    NEGATIVE,
    POSITIVE,
    PRIMARY,
    SECONDARY,
    SEGMENT_COLORS,
    TIMES,
    header_legend,
    headroom,
    is_empty,
    label_bars,
    label_style,
    labelled_bars,
    money,
    money_short,
    month_axis,
    new_figure,
    no_data,
    period,
    prepare_kpis,
    save,
    style_axes,
    thousands,
    to_float,
    vline,
)

__all__ = [
    "plot_customers",
    "plot_invoice_amounts",
    "plot_monthly_net_sales",
    "plot_orders",
    "plot_rfm_distributions",
    "plot_sales_growth",
    "plot_segment_sizes",
]


def plot_monthly_net_sales(kpis: pd.DataFrame, path: Path | str) -> Path:
    """Net sales per month as bars, so seasonality (the Q4 peak) is visible at a glance."""
    title = "Monthly net sales"
    if is_empty(kpis):
        return no_data(title, path)
    df = prepare_kpis(kpis, ["net_sales"])
    total = np.nansum(df["net_sales"])
    fig, (ax,) = new_figure(
        title,
        f"{period(df['month'])} · total {money(total)} · all lines incl. cancellations and adjustments",
    )
    x = month_axis(ax, df["month"])
    colors = [NEGATIVE if v < 0 else PRIMARY for v in df["net_sales"]]
    bars = ax.bar(x, df["net_sales"], color=colors, width=0.72)
    sales = df["net_sales"].to_numpy()
    label_bars(ax, bars, [money_short(v) for v in sales], sales, padding=3, **label_style(len(x)))
    ax.yaxis.set_major_formatter(FuncFormatter(money))
    ax.set_ylabel(f"Net sales ({CURRENCY})", fontsize=10)
    headroom(ax)
    return save(fig, path)


def plot_orders(kpis: pd.DataFrame, path: Path | str) -> Path:
    """Placed vs canceled orders side by side, so the cancellation load is read against volume."""
    title = "Placed vs canceled orders"
    if is_empty(kpis):
        return no_data(title, path)
    df = prepare_kpis(kpis, ["placed_orders", "canceled_orders"])
    placed, canceled = df["placed_orders"], df["canceled_orders"]
    rate = 100 * np.nansum(canceled) / max(np.nansum(placed), 1)
    fig, (ax,) = new_figure(
        title,
        f"{period(df['month'])} · distinct invoices per month · "
        f"canceled = {rate:.1f}% of placed overall ({_rates_shown(len(df))} above the red bars)",
    )
    x = month_axis(ax, df["month"])
    width = 0.4
    placed_bars = ax.bar(x - width / 2, placed, width, color=PRIMARY, label="Placed orders")
    canceled_bars = ax.bar(x + width / 2, canceled, width, color=NEGATIVE, label="Canceled orders")
    label_bars(
        ax, placed_bars, [f"{v:,.0f}" for v in placed], placed, padding=2, fontsize=7, rotation=90, color=INK
    )
    rates = np.where(placed > 0, 100 * canceled / np.maximum(placed, 1), np.nan)
    month_rates = ["" if np.isnan(r) else f"{r:.0f}%" for r in rates]
    label_bars(
        ax, canceled_bars, month_rates, rates, padding=2, **{**label_style(len(x), 7), "color": NEGATIVE}
    )
    ax.yaxis.set_major_formatter(FuncFormatter(thousands))
    ax.set_ylabel("Orders (invoices)", fontsize=10)
    headroom(ax, 1.1)
    header_legend(fig, ax=ax)
    return save(fig, path)


def _rates_shown(months: int) -> str:
    return "rate per month" if months <= DENSE_BARS else "the highest, lowest and latest month's rate"


def plot_sales_growth(kpis: pd.DataFrame, path: Path | str) -> Path:
    """Month-over-month growth with green/red bars, so good and bad months stand out."""
    title = "Month-over-month net sales growth"
    if is_empty(kpis):
        return no_data(title, path)
    df = prepare_kpis(kpis, ["sales_growth_pct"]).dropna(subset=["sales_growth_pct"]).reset_index(drop=True)
    if df.empty:
        return no_data(title, path, "Growth needs at least two months of sales.")
    growth = df["sales_growth_pct"]
    fig, (ax,) = new_figure(
        title, f"{period(df['month'])} · 100 {TIMES} (net sales / previous month's net sales {MINUS} 1)"
    )
    x = month_axis(ax, df["month"])
    bars = ax.bar(x, growth, width=0.72, color=[POSITIVE if v >= 0 else NEGATIVE for v in growth])
    label_bars(ax, bars, [f"{v:+.1f}%" for v in growth], growth, padding=3, **label_style(len(x)))
    ax.axhline(0, color=INK, linewidth=1)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:+,.0f}%" if v else "0%"))
    ax.set_ylabel("Growth vs previous month (%)", fontsize=10)
    low, high = ax.get_ylim()
    pad = (high - low) * (0.08 if len(x) <= 16 else 0.14)  # vertical labels need more room
    ax.set_ylim(low - pad, high + pad)
    header_legend(fig, [Patch(color=POSITIVE, label="Growth"), Patch(color=NEGATIVE, label="Decline")])
    return save(fig, path)


def plot_customers(kpis: pd.DataFrame, path: Path | str) -> Path:
    """Active customers split into new and returning, so acquisition and retention are seen together."""
    title = "Active customers per month"
    if is_empty(kpis):
        return no_data(title, path)
    df = prepare_kpis(kpis, ["active_customers", "new_customers", "existing_customers"])
    fig, (ax,) = new_figure(
        title, f"{period(df['month'])} · distinct known customers with any line · new = first month ever"
    )
    x = month_axis(ax, df["month"])
    existing, new = df["existing_customers"].fillna(0), df["new_customers"].fillna(0)
    ax.bar(x, existing, 0.72, color=PRIMARY, label="Existing customers")
    new_bars = ax.bar(x, new, 0.72, bottom=existing, color=SECONDARY, label="New customers")
    active = df["active_customers"]
    tall_enough = new >= 0.07 * max(np.nanmax(active), np.nanmax(existing + new), 1)
    new_labels = [f"{v:,.0f}" if ok else "" for v, ok in zip(new, tall_enough, strict=True)]
    label_bars(ax, new_bars, new_labels, new, label_type="center", **label_style(len(x), 7))
    ax.plot(x, active, color=HIGHLIGHT, marker="o", linewidth=2, markersize=5, label="Active customers")
    for i in labelled_bars(active):
        xi, value = x[i], active.iloc[i]
        if not np.isnan(value):
            ax.annotate(
                f"{value:,.0f}",
                (xi, value),
                xytext=(0, 7),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontweight="bold",
                path_effects=[withStroke(linewidth=3, foreground="white")],
                **label_style(len(x)),
            )
    ax.yaxis.set_major_formatter(FuncFormatter(thousands))
    ax.set_ylabel("Customers", fontsize=10)
    headroom(ax, 1.08)
    header_legend(fig, ax=ax)
    return save(fig, path)


# ----------------------------------------------------------------------------------- distribution charts


def plot_invoice_amounts(invoice_amounts: Iterable[Any], p85: float | None, path: Path | str) -> Path:
    """Invoice amounts on a log axis plus a linear view without outliers, since a few huge invoices
    would otherwise squash the typical basket into one bar."""
    title = "Invoice amount distribution"
    amounts = to_float(invoice_amounts)
    amounts = amounts[np.isfinite(amounts) & (amounts > 0)]
    if amounts.size == 0:
        return no_data(title, path)
    cutoff = float(p85) if p85 is not None and not pd.isna(p85) else float(np.percentile(amounts, 85))
    kept = amounts[amounts <= cutoff]
    fig, (ax_all, ax_kept) = new_figure(
        title,
        f"{amounts.size:,} invoices · amount = sum of positive lines · "
        f"outliers = invoices above the 85th percentile ({money(cutoff)})",
        ncols=2,
    )
    low, high = amounts.min(), amounts.max()
    if low == high:
        low, high = low / 1.5, high * 1.5
    ax_all.hist(amounts, bins=np.geomspace(low, high, 50), color=PRIMARY, alpha=0.85)
    ax_all.set_xscale("log")
    ax_all.xaxis.set_major_formatter(FuncFormatter(money))
    ax_all.xaxis.set_minor_formatter(NullFormatter())
    _mark_center(ax_all, amounts)
    vline(ax_all, cutoff, f"85th pct {money(cutoff)}", MUTED, ":")
    ax_all.set_title(f"All invoices (n = {amounts.size:,}, log scale)", fontsize=11, color=INK)
    ax_all.set_xlabel(f"Invoice amount ({CURRENCY}, log scale)", fontsize=10)

    if kept.size:
        ax_kept.hist(kept, bins=40, color=SECONDARY, edgecolor="white", linewidth=0.4)
        _mark_center(ax_kept, kept)
    ax_kept.xaxis.set_major_formatter(FuncFormatter(money))
    ax_kept.set_title(f"Without outliers (≤ {money(cutoff)}, n = {kept.size:,})", fontsize=11, color=INK)
    ax_kept.set_xlabel(f"Invoice amount ({CURRENCY})", fontsize=10)
    for ax in (ax_all, ax_kept):
        ax.yaxis.set_major_formatter(FuncFormatter(thousands))
        ax.set_ylabel("Invoices", fontsize=10)
        ax.legend(loc="upper right", frameon=False, fontsize=8.5)
    return save(fig, path)


def _mark_center(ax: Axes, values: np.ndarray, fmt: Callable[[float], str] = money) -> None:
    """Mean and median lines: the gap between them shows how skewed the distribution is."""
    vline(ax, float(np.mean(values)), f"Mean {fmt(float(np.mean(values)))}", NEGATIVE, "--")
    vline(ax, float(np.median(values)), f"Median {fmt(float(np.median(values)))}", HIGHLIGHT)


def plot_segment_sizes(segments: pd.DataFrame, path: Path | str) -> Path:
    """Customers per RFM segment, largest on top, so the biggest groups to act on are read first."""
    title = "Customers per RFM segment"
    if is_empty(segments):
        return no_data(title, path)
    df = pd.DataFrame(
        {
            "segment": segments["segment"].astype(str).to_numpy(),
            "customers": to_float(segments["customers"]),
            "share": to_float(segments["share_of_customers"]),
        }
    ).sort_values("customers", kind="stable")
    total = np.nansum(df["customers"])
    fig, (ax,) = new_figure(
        title, f"{total:,.0f} scored customers · segment from R and F scores (1{EN_DASH}5)"
    )
    style_axes(ax, grid_axis="x")
    ax.grid(axis="y", visible=False)
    colors = [SEGMENT_COLORS.get(s, MUTED) for s in df["segment"]]
    bars = ax.barh(df["segment"], df["customers"], color=colors, height=0.7)
    labels = [f"{c:,.0f}  ({100 * s:.1f}%)" for c, s in zip(df["customers"], df["share"], strict=True)]
    ax.bar_label(bars, labels, padding=4, fontsize=9, color=INK)
    ax.xaxis.set_major_formatter(FuncFormatter(thousands))
    ax.set_xlabel("Customers", fontsize=10)
    ax.tick_params(axis="y", labelsize=10, length=0)
    low, high = ax.get_xlim()
    ax.set_xlim(low, high * 1.18)
    return save(fig, path)


def plot_rfm_distributions(scores: pd.DataFrame, path: Path | str) -> Path:
    """Histograms of recency, frequency and monetary, tails clipped at the 99th percentile so the bulk of
    customers stays readable despite a few wholesale-sized accounts."""
    title = "RFM input distributions"
    if is_empty(scores):
        return no_data(title, path)
    panels = [
        ("recency_days", "Recency", "Days since last purchase", "{:,.0f} days", thousands),
        ("frequency", "Frequency", "Invoices per customer", "{:,.0f}", thousands),
        ("monetary", "Monetary", f"Total spend ({CURRENCY})", None, money),
    ]
    fig, axes = new_figure(
        title,
        f"{len(scores):,} customers · tails above the 99th percentile are clipped (not shown); "
        "orange line = median",
        ncols=3,
    )
    for ax, (col, name, xlabel, fmt, axis_fmt) in zip(axes, panels, strict=True):
        values = to_float(scores[col])
        values = values[np.isfinite(values)]
        ax.set_title(name, fontsize=11, color=INK)
        ax.set_xlabel(xlabel, fontsize=10)
        ax.set_ylabel("Customers", fontsize=10)
        ax.xaxis.set_major_formatter(FuncFormatter(axis_fmt))
        ax.yaxis.set_major_formatter(FuncFormatter(thousands))
        if values.size == 0:
            continue
        p99 = float(np.percentile(values, 99))
        shown = values[values <= p99]
        ax.hist(shown, bins=_bins(shown, integer=col != "monetary"), color=PRIMARY, edgecolor="white", lw=0.4)
        median = float(np.median(values))
        label_fmt = (lambda v, f=fmt: f.format(v)) if fmt else money
        ax.axvline(median, color=HIGHLIGHT, linewidth=1.8, ymax=0.8)
        hidden = values.size - shown.size
        ax.text(
            0.98,
            0.98,
            f"median {label_fmt(median)}\n{hidden:,} above P99 ({label_fmt(p99)}) not shown",
            transform=ax.transAxes,
            ha="right",
            va="top",
            fontsize=8,
            color=MUTED,
        )
        headroom(ax, 1.25)
        ax.xaxis.set_major_locator(MaxNLocator(5, integer=col != "monetary"))
    return save(fig, path)


def _bins(values: np.ndarray, integer: bool) -> np.ndarray | int:
    """Integer-aligned bins for count-like data (no comb artefacts), 40 even bins otherwise."""
    low, high = float(values.min()), float(values.max())
    if integer and high - low <= 60:
        return np.arange(np.floor(low) - 0.5, np.ceil(high) + 1.5)
    return 40
