"""Smoke tests for the charts: each writes a real PNG for realistic, empty and Decimal-typed input."""

from __future__ import annotations

import struct
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from retail_platform.analytics import charts

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SEGMENTS = [
    "Hibernating",
    "At Risk",
    "Can't Lose",
    "About to Sleep",
    "Need Attention",
    "Loyal Customers",
    "Promising",
    "New Customers",
    "Potential Loyalists",
    "Champions",
]


def make_kpis() -> pd.DataFrame:
    """Thirteen months shaped like the Online Retail II year Dec 2009 - Dec 2010 (Q4 peak)."""
    months = pd.date_range("2009-12-01", periods=13, freq="MS")
    net = [683_504.0, 555_802.7, 504_558.9, 696_978.5, 591_982.0, 597_833.4, 636_371.1,
           589_736.2, 602_224.6, 829_013.0, 1_033_112.0, 1_166_460.0, 310_656.4]  # fmt: skip
    new = [955, 394, 363, 436, 291, 254, 236, 209, 175, 335, 422, 431, 124]
    existing = [0, 400, 400, 530, 600, 710, 780, 775, 800, 880, 950, 1150, 480]
    placed = [1_512, 1_011, 1_104, 1_524, 1_329, 1_377, 1_497, 1_527, 1_483, 1_837, 2_276, 2_901, 776]
    canceled = [213, 123, 147, 193, 181, 230, 197, 183, 174, 228, 221, 301, 85]
    df = pd.DataFrame(
        {
            "month": months.date,
            "placed_orders": placed,
            "canceled_orders": canceled,
            "net_sales": net,
            "new_customers": new,
            "existing_customers": existing,
        }
    )
    df["active_customers"] = df["new_customers"] + df["existing_customers"]
    df["sales_growth_pct"] = 100 * (df["net_sales"] / df["net_sales"].shift() - 1)
    return df


def make_invoice_amounts(n: int = 2_000) -> pd.Series:
    """Log-normal baskets with a few wholesale-sized invoices, like the real data."""
    rng = np.random.default_rng(7)
    amounts = rng.lognormal(mean=5.8, sigma=0.9, size=n)
    amounts[:5] = [25_000.0, 38_970.0, 12_500.0, 9_800.0, 0.85]
    return pd.Series(np.round(amounts, 2))


def make_scores(n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(42)
    scores = pd.DataFrame(
        {
            "customer_id": np.arange(12_346, 12_346 + n),
            "recency_days": rng.integers(1, 374, size=n),
            "frequency": np.minimum(rng.geometric(0.25, size=n), 200),
            "monetary": np.round(rng.lognormal(6.5, 1.2, size=n), 2),
            "r_score": rng.integers(1, 6, size=n),
            "f_score": rng.integers(1, 6, size=n),
            "m_score": rng.integers(1, 6, size=n),
        }
    )
    scores.loc[0, ["frequency", "monetary"]] = [180, 250_000.0]
    scores["rfm_score"] = (
        scores["r_score"].astype(str) + scores["f_score"].astype(str) + scores["m_score"].astype(str)
    )
    scores["segment"] = rng.choice(SEGMENTS, size=n)
    return scores


def make_segments(scores: pd.DataFrame) -> pd.DataFrame:
    grouped = scores.groupby("segment")
    segments = pd.DataFrame(
        {
            "customers": grouped.size(),
            "mean_recency_days": grouped["recency_days"].mean(),
            "mean_frequency": grouped["frequency"].mean(),
            "mean_monetary": grouped["monetary"].mean(),
            "total_monetary": grouped["monetary"].sum(),
        }
    ).reset_index()
    segments["share_of_customers"] = segments["customers"] / segments["customers"].sum()
    return segments


def to_decimal(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Mimic what psycopg returns for NUMERIC columns: object dtype holding Decimal (and None)."""
    out = frame.copy()
    for col in columns:
        out[col] = [None if pd.isna(v) else Decimal(str(round(float(v), 2))) for v in out[col]]
    return out


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which the PNG spec requires to come first."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    length, chunk_type = struct.unpack(">I4s", data[8:16])
    assert chunk_type == b"IHDR" and length == 13
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def assert_chart(path: Path, result: Path) -> None:
    assert result == path and path.is_file()
    width, height = png_size(path)
    # ~10 x 5.5 in at ~110 dpi; allow slack for layout tweaks.
    assert 800 <= width <= 1600 and 450 <= height <= 900
    assert width > height


KPI_CHARTS: list[Callable[[pd.DataFrame, Path], Path]] = [
    charts.plot_monthly_net_sales,
    charts.plot_orders,
    charts.plot_sales_growth,
    charts.plot_customers,
]
KPI_DECIMALS = [
    "placed_orders",
    "canceled_orders",
    "net_sales",
    "sales_growth_pct",
    "active_customers",
    "new_customers",
    "existing_customers",
]


@pytest.mark.parametrize("plot", KPI_CHARTS, ids=lambda f: f.__name__)
def test_kpi_charts(plot: Callable[[pd.DataFrame, Path], Path], tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / f"{plot.__name__}.png"
    assert_chart(path, plot(make_kpis(), path))


@pytest.mark.parametrize("plot", KPI_CHARTS, ids=lambda f: f.__name__)
def test_kpi_charts_accept_decimals_and_datetimes(
    plot: Callable[[pd.DataFrame, Path], Path], tmp_path: Path
) -> None:
    kpis = to_decimal(make_kpis(), KPI_DECIMALS)
    kpis["month"] = pd.to_datetime(kpis["month"])
    assert kpis["net_sales"].dtype == object
    path = tmp_path / "decimal.png"
    assert_chart(path, plot(kpis, path))


@pytest.mark.parametrize("plot", KPI_CHARTS, ids=lambda f: f.__name__)
def test_kpi_charts_empty(plot: Callable[[pd.DataFrame, Path], Path], tmp_path: Path) -> None:
    empty = make_kpis().iloc[0:0]
    path = tmp_path / "empty.png"
    assert_chart(path, plot(empty, path))
    assert_chart(path, plot(pd.DataFrame(), path))


def test_single_month_kpis(tmp_path: Path) -> None:
    """One month has no growth value: the growth chart must fall back to the placeholder."""
    one = make_kpis().iloc[:1]
    for plot in KPI_CHARTS:
        path = tmp_path / f"{plot.__name__}.png"
        assert_chart(path, plot(one, path))


def test_invoice_amounts(tmp_path: Path) -> None:
    amounts = make_invoice_amounts()
    path = tmp_path / "amounts.png"
    assert_chart(path, charts.plot_invoice_amounts(amounts, float(amounts.quantile(0.85)), path))


def test_invoice_amounts_decimals_and_empty(tmp_path: Path) -> None:
    amounts = [Decimal(str(v)) for v in make_invoice_amounts(300)]
    path = tmp_path / "decimal.png"
    assert_chart(
        path,
        charts.plot_invoice_amounts(amounts, float(np.percentile([float(v) for v in amounts], 85)), path),
    )
    assert_chart(path, charts.plot_invoice_amounts(pd.Series(dtype=float), float("nan"), path))
    assert_chart(path, charts.plot_invoice_amounts([Decimal("12.50")], 12.5, path))


def test_segment_sizes(tmp_path: Path) -> None:
    segments = make_segments(make_scores())
    assert len(segments) == 10
    path = tmp_path / "segments.png"
    assert_chart(path, charts.plot_segment_sizes(segments, path))
    decimal = to_decimal(segments, ["share_of_customers", "mean_monetary", "total_monetary"])
    assert_chart(path, charts.plot_segment_sizes(decimal, path))
    assert_chart(path, charts.plot_segment_sizes(segments.iloc[0:0], path))


def test_rfm_distributions(tmp_path: Path) -> None:
    scores = make_scores()
    path = tmp_path / "rfm.png"
    assert_chart(path, charts.plot_rfm_distributions(scores, path))
    assert_chart(path, charts.plot_rfm_distributions(to_decimal(scores, ["monetary"]), path))
    assert_chart(path, charts.plot_rfm_distributions(scores.iloc[0:0], path))
    assert_chart(path, charts.plot_rfm_distributions(scores.iloc[:1], path))
