"""Chart assets (group ``charts``): each renders one PNG under ``$RETAIL_HOME/charts`` from a mart and shows
the picture in its metadata in the UI. They are one step (``charts``, a multi-asset that can be subset: each
chart is still its own asset, materialized alone from the UI if wanted) so that their data is read once and
the pictures are drawn on every core at once (``analytics.chart_pool``): seven charts one after another took
longer than the marts they show after a day's refresh."""

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
from sqlalchemy import text

from retail_platform.analytics import charts
from retail_platform.analytics.chart_pool import ChartTask, render_charts
from retail_platform.defs.marts import kpis, rfm
from retail_platform.defs.resources import RetailPathsResource, WarehouseResource
from retail_platform.warehouse.bulk import read_copy_frame
from retail_platform.warehouse.sql_files import read_sql

MONTHLY_KPIS = kpis.MONTHLY_KPIS.key
INVOICE_STATS = kpis.INVOICE_AMOUNT_STATS.key
RFM_SCORES = rfm.rfm_scores.key
RFM_SEGMENTS = rfm.rfm_segments.key


def chart_metadata(path: Path, source: str) -> dict[str, dg.MetadataValue]:
    """The PNG's path and the picture itself, inlined so the UI shows it without file access."""
    encoded = base64.b64encode(path.read_bytes()).decode("ascii")
    return {
        "path": dg.MetadataValue.path(str(path)),
        "size_bytes": dg.MetadataValue.int(path.stat().st_size),
        "source_table": dg.MetadataValue.text(source),
        "chart": dg.MetadataValue.md(f"![{path.stem}](data:image/png;base64,{encoded})"),
    }


def _read_table(warehouse: WarehouseResource, query: str) -> pd.DataFrame:
    with warehouse.get_engine().connect() as conn:
        return pd.read_sql_query(text(query), conn)


def invoice_amounts(warehouse: WarehouseResource) -> np.ndarray:
    """Every invoice's amount (SPEC 4.1), in order, from the counts of each distinct amount."""
    types = {"amount": "float64", "invoices": "int64"}
    with warehouse.get_engine().connect() as conn:
        counts = read_copy_frame(conn, read_sql("queries/invoice_amounts.sql"), types)
    return np.repeat(counts["amount"].to_numpy(), counts["invoices"].to_numpy())


def _invoice_amounts(warehouse: WarehouseResource) -> tuple:
    stats = _read_table(warehouse, "SELECT p85_amount FROM marts.invoice_amount_stats WHERE variant = 'all'")
    p85 = float(stats["p85_amount"].iloc[0]) if not stats.empty else None
    return invoice_amounts(warehouse), p85


@dataclass(frozen=True)
class Chart:
    """One chart asset: ``plot(*read(warehouse), path)`` draws ``charts/<name>.png`` from ``source``."""

    name: str
    source: dg.AssetKey
    plot: Callable[..., Path]
    read: Callable[[WarehouseResource], tuple]
    description: str

    @property
    def key(self) -> dg.AssetKey:
        return dg.AssetKey(["charts", self.name])


def _rows(query: str) -> Callable[[WarehouseResource], tuple]:
    return lambda warehouse: (_read_table(warehouse, query),)


KPIS = _rows("SELECT * FROM marts.monthly_kpis ORDER BY month")
CHARTS = (
    Chart(
        "monthly_net_sales",
        MONTHLY_KPIS,
        charts.plot_monthly_net_sales,
        KPIS,
        "Net sales per month, in pounds.",
    ),
    Chart(
        "placed_vs_canceled_orders",
        MONTHLY_KPIS,
        charts.plot_orders,
        KPIS,
        "Placed and canceled orders per month, with the cancellation rate.",
    ),
    Chart(
        "sales_growth",
        MONTHLY_KPIS,
        charts.plot_sales_growth,
        KPIS,
        "Month-over-month growth of net sales, in percent.",
    ),
    Chart(
        "customers",
        MONTHLY_KPIS,
        charts.plot_customers,
        KPIS,
        "Active customers per month, split into new and existing.",
    ),
    Chart(
        "rfm_segment_sizes",
        RFM_SEGMENTS,
        charts.plot_segment_sizes,
        _rows("SELECT * FROM marts.rfm_segments ORDER BY customers DESC"),
        "Customers per RFM segment, with their share.",
    ),
    Chart(
        "invoice_amount_distribution",
        INVOICE_STATS,
        charts.plot_invoice_amounts,
        _invoice_amounts,
        "Distribution of invoice amounts, all invoices and without outliers (above the 85th percentile).",
    ),
    Chart(
        "rfm_distributions",
        RFM_SCORES,
        charts.plot_rfm_distributions,
        _rows("SELECT * FROM marts.rfm_scores"),
        "Distributions of recency (days), frequency (invoices) and monetary value (pounds) over customers.",
    ),
)


@dg.multi_asset(
    name="charts",
    specs=[
        dg.AssetSpec(
            chart.key,
            deps=[chart.source],
            group_name="charts",
            kinds={"matplotlib", "png"},
            description=chart.description,
            skippable=True,
        )
        for chart in CHARTS
    ],
    can_subset=True,
)
def chart_pictures(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, retail_paths: RetailPathsResource
) -> Iterator[dg.MaterializeResult]:
    """The selected charts: their data read here (one query per mart) while the first are drawn, their
    pictures drawn at once."""
    selected = [chart for chart in CHARTS if chart.key in context.selected_asset_keys]
    folder = retail_paths.paths().charts

    def tasks() -> Iterator[ChartTask]:
        # each mart read once, when its first chart is due: the workers draw the first charts meanwhile
        data: dict[Callable, tuple] = {}
        for chart in selected:
            if chart.read not in data:
                data[chart.read] = chart.read(warehouse)
            yield ChartTask(chart.name, chart.plot, data[chart.read], folder / f"{chart.name}.png")

    by_name = {chart.name: chart for chart in selected}
    failed: list[tuple[str, Exception]] = []
    for task, outcome in render_charts(tasks(), count=len(selected)):
        if isinstance(outcome, Exception):
            failed.append((task.name, outcome))
            continue
        chart = by_name[task.name]
        context.log.info(f"Wrote {outcome}")
        yield dg.MaterializeResult(
            asset_key=chart.key, metadata=chart_metadata(outcome, ".".join(chart.source.path))
        )
    if failed:
        names = ", ".join(name for name, _ in failed)
        raise RuntimeError(f"could not draw {names}: {failed[0][1]}") from failed[0][1]
