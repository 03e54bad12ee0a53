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
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.patches import Patch
from matplotlib.patheffects import withStroke
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter

__all__ = [
    "plot_customers",
    "plot_invoice_amounts",
    "plot_monthly_net_sales",
    "plot_orders",
    "plot_rfm_distributions",
    "plot_sales_growth",
    "plot_segment_sizes",
]

CURRENCY = "£"
FIGSIZE = (10.0, 5.5)
DPI = 110

# One palette for every chart so the deck looks consistent.
PRIMARY = "#1f5f8b"
SECONDARY = "#7fb3d5"
NEGATIVE = "#c0392b"
POSITIVE = "#2e8b57"
HIGHLIGHT = "#e67e22"
INK = "#222222"
MUTED = "#666666"
GRID = "#dddddd"

# Typographic characters, spelled as escapes so the source stays ASCII-unambiguous (ruff RUF001).
EN_DASH, TIMES, MINUS = "\u2013", "\u00d7", "\u2212"

# Semantic colors: green = healthy, amber = needs care, red = slipping away, grey = gone.
SEGMENT_COLORS: dict[str, str] = {
    "Champions": "#1b7837",
    "Loyal Customers": "#5aae61",
    "Potential Loyalists": "#a6d96a",
    "New Customers": "#2c7fb8",
    "Promising": "#7fcdbb",
    "Need Attention": "#f1c40f",
    "About to Sleep": "#f39c12",
    "At Risk": "#e8590c",
    "Can't Lose": "#b2182b",
    "Hibernating": "#8c8c8c",
}

_TOP = 0.87  # fraction of the figure height left for axes; the rest holds title and subtitle


# ----------------------------------------------------------------------------------------------- helpers


def _to_float(values: Iterable[Any]) -> np.ndarray:
    """Floats from ints/floats/Decimals/None, because Postgres NUMERIC arrives as `decimal.Decimal`."""
    return np.array([np.nan if v is None or pd.isna(v) else float(v) for v in values], dtype=float)


def _money(value: float, _pos: object = None) -> str:
    """Full currency label with thousands separators, for axes."""
    sign = "-" if value < 0 else ""
    return f"{sign}{CURRENCY}{abs(value):,.0f}"


def _money_short(value: float) -> str:
    """Compact currency label (£1.23M, £825k) that fits above a bar."""
    sign, v = ("-" if value < 0 else ""), abs(value)
    if v >= 1e6:
        return f"{sign}{CURRENCY}{v / 1e6:.2f}M"
    if v >= 1e4:
        return f"{sign}{CURRENCY}{v / 1e3:.0f}k"
    return f"{sign}{CURRENCY}{v:,.0f}"


def _thousands(value: float, _pos: object = None) -> str:
    return f"{value:,.0f}"


def _new_figure(title: str, subtitle: str = "", ncols: int = 1) -> tuple[Figure, list[Axes]]:
    """A white figure with a left-aligned title block and styled axes below it."""
    fig = Figure(figsize=FIGSIZE, dpi=DPI, facecolor="white")
    fig.set_layout_engine(ConstrainedLayoutEngine(rect=(0.0, 0.0, 1.0, _TOP), w_pad=0.08, h_pad=0.08))
    fig.text(0.012, 0.965, title, ha="left", va="top", fontsize=15, fontweight="bold", color=INK)
    if subtitle:
        fig.text(0.012, 0.905, subtitle, ha="left", va="top", fontsize=10, color=MUTED)
    axes = list(np.atleast_1d(fig.subplots(1, ncols)))
    for ax in axes:
        _style(ax)
    return fig, axes


def _style(ax: Axes, grid_axis: str = "y") -> None:
    """Light grid behind the data, no top/right frame, muted tick labels."""
    ax.set_axisbelow(True)
    ax.grid(axis=grid_axis, color=GRID, linewidth=0.8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#999999")
    ax.tick_params(colors=MUTED, labelcolor=INK, labelsize=9)
    ax.xaxis.label.set_color(INK)
    ax.yaxis.label.set_color(INK)


def _save(fig: Figure, path: Path | str) -> Path:
    """Write the PNG, creating parent directories, and hand the path back for the caller's metadata."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, format="png", facecolor="white")
    return path


def _no_data(title: str, path: Path | str, reason: str = "") -> Path:
    """Placeholder chart so an empty warehouse still yields a picture instead of a failed asset."""
    fig, (ax,) = _new_figure(title)
    ax.set_axis_off()
    ax.text(0.5, 0.55, "No data yet", ha="center", va="center", fontsize=26, color="#aaaaaa")
    if reason:
        ax.text(0.5, 0.40, reason, ha="center", va="center", fontsize=11, color=MUTED)
    return _save(fig, path)


def _is_empty(frame: pd.DataFrame | None) -> bool:
    return frame is None or len(frame) == 0


def _prepare_kpis(kpis: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Month as Timestamp, requested columns as float, sorted chronologically."""
    out = pd.DataFrame({"month": pd.to_datetime(pd.Series(list(kpis["month"])))})
    for col in columns:
        out[col] = _to_float(kpis[col])
    return out.sort_values("month", kind="stable").reset_index(drop=True)


def _period(months: pd.Series) -> str:
    first, last = months.iloc[0], months.iloc[-1]
    return f"{first:%b %Y} {EN_DASH} {last:%b %Y}" if first != last else f"{first:%b %Y}"


def _month_axis(ax: Axes, months: pd.Series) -> np.ndarray:
    """Categorical month positions labelled 'Dec 2009'; thinned and slanted when there are many."""
    x = np.arange(len(months))
    step = max(1, int(np.ceil(len(months) / 18)))
    ax.set_xticks(x[::step], [f"{m:%b %Y}" for m in months.iloc[::step]])
    if len(x[::step]) > 8:
        for label in ax.get_xticklabels():
            label.set_rotation(40)
            label.set_horizontalalignment("right")
            label.set_rotation_mode("anchor")
    ax.set_xlim(-0.6, len(months) - 0.4)
    ax.set_xlabel("Month", fontsize=10)
    return x


def _label_style(n_bars: int, fontsize: float = 8) -> dict[str, Any]:
    """Value-label font: horizontal for a year of months, vertical and smaller when bars get narrow."""
    if n_bars <= 16:
        return {"fontsize": fontsize, "color": INK}
    return {"fontsize": fontsize - 1, "rotation": 90, "color": INK}


def _headroom(ax: Axes, factor: float = 1.12) -> None:
    """Extra space above the tallest bar so value labels are not cut off."""
    low, high = ax.get_ylim()
    ax.set_ylim(low, high + (high - low) * (factor - 1))


def _header_legend(fig: Figure, handles: list[Any] | None = None, ax: Axes | None = None) -> None:
    """Legend in the title row (top right) so it never covers bars or their value labels."""
    if handles is None and ax is not None:
        handles = ax.get_legend_handles_labels()[0]
    fig.legend(
        handles=handles,
        loc="upper right",
        bbox_to_anchor=(0.995, 0.975),
        ncols=len(handles or []),
        frameon=False,
        fontsize=9,
        handlelength=1.6,
        columnspacing=1.4,
    )


def _vline(ax: Axes, x: float, label: str, color: str, style: str = "-") -> None:
    ax.axvline(x, color=color, linestyle=style, linewidth=1.8, label=label)


# ------------------------------------------------------------------------------------------- KPI charts


def plot_monthly_net_sales(kpis: pd.DataFrame, path: Path | str) -> Path:
    """Net sales per month as bars, so seasonality (the Q4 peak) is visible at a glance."""
    title = "Monthly net sales"
    if _is_empty(kpis):
        return _no_data(title, path)
    df = _prepare_kpis(kpis, ["net_sales"])
    total = np.nansum(df["net_sales"])
    fig, (ax,) = _new_figure(
        title,
        f"{_period(df['month'])} · total {_money(total)} · all lines incl. cancellations and adjustments",
    )
    x = _month_axis(ax, df["month"])
    colors = [NEGATIVE if v < 0 else PRIMARY for v in df["net_sales"]]
    bars = ax.bar(x, df["net_sales"], color=colors, width=0.72)
    ax.bar_label(bars, [_money_short(v) for v in df["net_sales"]], padding=3, **_label_style(len(x)))
    ax.yaxis.set_major_formatter(FuncFormatter(_money))
    ax.set_ylabel(f"Net sales ({CURRENCY})", fontsize=10)
    _headroom(ax)
    return _save(fig, path)


def plot_orders(kpis: pd.DataFrame, path: Path | str) -> Path:
    """Placed vs canceled orders side by side, so the cancellation load is read against volume."""
    title = "Placed vs canceled orders"
    if _is_empty(kpis):
        return _no_data(title, path)
    df = _prepare_kpis(kpis, ["placed_orders", "canceled_orders"])
    placed, canceled = df["placed_orders"], df["canceled_orders"]
    rate = 100 * np.nansum(canceled) / max(np.nansum(placed), 1)
    fig, (ax,) = _new_figure(
        title,
        f"{_period(df['month'])} · distinct invoices per month · "
        f"canceled = {rate:.1f}% of placed overall (rate per month above the red bars)",
    )
    x = _month_axis(ax, df["month"])
    width = 0.4
    placed_bars = ax.bar(x - width / 2, placed, width, color=PRIMARY, label="Placed orders")
    canceled_bars = ax.bar(x + width / 2, canceled, width, color=NEGATIVE, label="Canceled orders")
    ax.bar_label(placed_bars, [f"{v:,.0f}" for v in placed], padding=2, fontsize=7, rotation=90, color=INK)
    month_rates = [f"{100 * c / p:.0f}%" if p > 0 else "" for p, c in zip(placed, canceled, strict=True)]
    ax.bar_label(canceled_bars, month_rates, padding=2, **{**_label_style(len(x), 7), "color": NEGATIVE})
    ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
    ax.set_ylabel("Orders (invoices)", fontsize=10)
    _headroom(ax, 1.1)
    _header_legend(fig, ax=ax)
    return _save(fig, path)


def plot_sales_growth(kpis: pd.DataFrame, path: Path | str) -> Path:
    """Month-over-month growth with green/red bars, so good and bad months stand out."""
    title = "Month-over-month net sales growth"
    if _is_empty(kpis):
        return _no_data(title, path)
    df = _prepare_kpis(kpis, ["sales_growth_pct"]).dropna(subset=["sales_growth_pct"]).reset_index(drop=True)
    if df.empty:
        return _no_data(title, path, "Growth needs at least two months of sales.")
    growth = df["sales_growth_pct"]
    fig, (ax,) = _new_figure(
        title, f"{_period(df['month'])} · 100 {TIMES} (net sales / previous month's net sales {MINUS} 1)"
    )
    x = _month_axis(ax, df["month"])
    bars = ax.bar(x, growth, width=0.72, color=[POSITIVE if v >= 0 else NEGATIVE for v in growth])
    ax.bar_label(bars, [f"{v:+.1f}%" for v in growth], padding=3, **_label_style(len(x)))
    ax.axhline(0, color=INK, linewidth=1)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:+,.0f}%" if v else "0%"))
    ax.set_ylabel("Growth vs previous month (%)", fontsize=10)
    low, high = ax.get_ylim()
    pad = (high - low) * (0.08 if len(x) <= 16 else 0.14)  # vertical labels need more room
    ax.set_ylim(low - pad, high + pad)
    _header_legend(fig, [Patch(color=POSITIVE, label="Growth"), Patch(color=NEGATIVE, label="Decline")])
    return _save(fig, path)


def plot_customers(kpis: pd.DataFrame, path: Path | str) -> Path:
    """Active customers split into new and returning, so acquisition and retention are seen together."""
    title = "Active customers per month"
    if _is_empty(kpis):
        return _no_data(title, path)
    df = _prepare_kpis(kpis, ["active_customers", "new_customers", "existing_customers"])
    fig, (ax,) = _new_figure(
        title, f"{_period(df['month'])} · distinct known customers with any line · new = first month ever"
    )
    x = _month_axis(ax, df["month"])
    existing, new = df["existing_customers"].fillna(0), df["new_customers"].fillna(0)
    ax.bar(x, existing, 0.72, color=PRIMARY, label="Existing customers")
    new_bars = ax.bar(x, new, 0.72, bottom=existing, color=SECONDARY, label="New customers")
    active = df["active_customers"]
    tall_enough = new >= 0.07 * max(np.nanmax(active), np.nanmax(existing + new), 1)
    new_labels = [f"{v:,.0f}" if ok else "" for v, ok in zip(new, tall_enough, strict=True)]
    ax.bar_label(new_bars, new_labels, label_type="center", **_label_style(len(x), 7))
    ax.plot(x, active, color=HIGHLIGHT, marker="o", linewidth=2, markersize=5, label="Active customers")
    for xi, value in zip(x, active, strict=True):
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
                **_label_style(len(x)),
            )
    ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
    ax.set_ylabel("Customers", fontsize=10)
    _headroom(ax, 1.08)
    _header_legend(fig, ax=ax)
    return _save(fig, path)


# ----------------------------------------------------------------------------------- distribution charts


def plot_invoice_amounts(invoice_amounts: Iterable[Any], p85: float | None, path: Path | str) -> Path:
    """Invoice amounts on a log axis plus a linear view without outliers, since a few huge invoices
    would otherwise squash the typical basket into one bar."""
    title = "Invoice amount distribution"
    amounts = _to_float(invoice_amounts)
    amounts = amounts[np.isfinite(amounts) & (amounts > 0)]
    if amounts.size == 0:
        return _no_data(title, path)
    cutoff = float(p85) if p85 is not None and not pd.isna(p85) else float(np.percentile(amounts, 85))
    kept = amounts[amounts <= cutoff]
    fig, (ax_all, ax_kept) = _new_figure(
        title,
        f"{amounts.size:,} invoices · amount = sum of positive lines · "
        f"outliers = invoices above the 85th percentile ({_money(cutoff)})",
        ncols=2,
    )
    low, high = amounts.min(), amounts.max()
    if low == high:
        low, high = low / 1.5, high * 1.5
    ax_all.hist(amounts, bins=np.geomspace(low, high, 50), color=PRIMARY, alpha=0.85)
    ax_all.set_xscale("log")
    ax_all.xaxis.set_major_formatter(FuncFormatter(_money))
    ax_all.xaxis.set_minor_formatter(NullFormatter())
    _mark_center(ax_all, amounts)
    _vline(ax_all, cutoff, f"85th pct {_money(cutoff)}", MUTED, ":")
    ax_all.set_title(f"All invoices (n = {amounts.size:,}, log scale)", fontsize=11, color=INK)
    ax_all.set_xlabel(f"Invoice amount ({CURRENCY}, log scale)", fontsize=10)

    if kept.size:
        ax_kept.hist(kept, bins=40, color=SECONDARY, edgecolor="white", linewidth=0.4)
        _mark_center(ax_kept, kept)
    ax_kept.xaxis.set_major_formatter(FuncFormatter(_money))
    ax_kept.set_title(f"Without outliers (≤ {_money(cutoff)}, n = {kept.size:,})", fontsize=11, color=INK)
    ax_kept.set_xlabel(f"Invoice amount ({CURRENCY})", fontsize=10)
    for ax in (ax_all, ax_kept):
        ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
        ax.set_ylabel("Invoices", fontsize=10)
        ax.legend(loc="upper right", frameon=False, fontsize=8.5)
    return _save(fig, path)


def _mark_center(ax: Axes, values: np.ndarray, fmt: Callable[[float], str] = _money) -> None:
    """Mean and median lines: the gap between them shows how skewed the distribution is."""
    _vline(ax, float(np.mean(values)), f"Mean {fmt(float(np.mean(values)))}", NEGATIVE, "--")
    _vline(ax, float(np.median(values)), f"Median {fmt(float(np.median(values)))}", HIGHLIGHT)


def plot_segment_sizes(segments: pd.DataFrame, path: Path | str) -> Path:
    """Customers per RFM segment, largest on top, so the biggest groups to act on are read first."""
    title = "Customers per RFM segment"
    if _is_empty(segments):
        return _no_data(title, path)
    df = pd.DataFrame(
        {
            "segment": segments["segment"].astype(str).to_numpy(),
            "customers": _to_float(segments["customers"]),
            "share": _to_float(segments["share_of_customers"]),
        }
    ).sort_values("customers", kind="stable")
    total = np.nansum(df["customers"])
    fig, (ax,) = _new_figure(
        title, f"{total:,.0f} scored customers · segment from R and F scores (1{EN_DASH}5)"
    )
    _style(ax, grid_axis="x")
    ax.grid(axis="y", visible=False)
    colors = [SEGMENT_COLORS.get(s, MUTED) for s in df["segment"]]
    bars = ax.barh(df["segment"], df["customers"], color=colors, height=0.7)
    labels = [f"{c:,.0f}  ({100 * s:.1f}%)" for c, s in zip(df["customers"], df["share"], strict=True)]
    ax.bar_label(bars, labels, padding=4, fontsize=9, color=INK)
    ax.xaxis.set_major_formatter(FuncFormatter(_thousands))
    ax.set_xlabel("Customers", fontsize=10)
    ax.tick_params(axis="y", labelsize=10, length=0)
    low, high = ax.get_xlim()
    ax.set_xlim(low, high * 1.18)
    return _save(fig, path)


def plot_rfm_distributions(scores: pd.DataFrame, path: Path | str) -> Path:
    """Histograms of recency, frequency and monetary, tails clipped at the 99th percentile so the bulk of
    customers stays readable despite a few wholesale-sized accounts."""
    title = "RFM input distributions"
    if _is_empty(scores):
        return _no_data(title, path)
    panels = [
        ("recency_days", "Recency", "Days since last purchase", "{:,.0f} days", _thousands),
        ("frequency", "Frequency", "Invoices per customer", "{:,.0f}", _thousands),
        ("monetary", "Monetary", f"Total spend ({CURRENCY})", None, _money),
    ]
    fig, axes = _new_figure(
        title,
        f"{len(scores):,} customers · tails above the 99th percentile are clipped (not shown); "
        "orange line = median",
        ncols=3,
    )
    for ax, (col, name, xlabel, fmt, axis_fmt) in zip(axes, panels, strict=True):
        values = _to_float(scores[col])
        values = values[np.isfinite(values)]
        ax.set_title(name, fontsize=11, color=INK)
        ax.set_xlabel(xlabel, fontsize=10)
        ax.set_ylabel("Customers", fontsize=10)
        ax.xaxis.set_major_formatter(FuncFormatter(axis_fmt))
        ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
        if values.size == 0:
            continue
        p99 = float(np.percentile(values, 99))
        shown = values[values <= p99]
        ax.hist(shown, bins=_bins(shown, integer=col != "monetary"), color=PRIMARY, edgecolor="white", lw=0.4)
        median = float(np.median(values))
        label_fmt = (lambda v, f=fmt: f.format(v)) if fmt else _money
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
        _headroom(ax, 1.25)
        ax.xaxis.set_major_locator(MaxNLocator(5, integer=col != "monetary"))
    return _save(fig, path)


def _bins(values: np.ndarray, integer: bool) -> np.ndarray | int:
    """Integer-aligned bins for count-like data (no comb artefacts), 40 even bins otherwise."""
    low, high = float(values.min()), float(values.max())
    if integer and high - low <= 60:
        return np.arange(np.floor(low) - 0.5, np.ceil(high) + 1.5)
    return 40
