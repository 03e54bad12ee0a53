"""Chart assets (group ``charts``): each renders one PNG under ``$RETAIL_HOME/charts`` from a mart and shows
the picture in its metadata in the UI."""

import base64
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pandas as pd
from sqlalchemy import text

from retail_platform.analytics import charts
from retail_platform.defs.marts import kpis, rfm
from retail_platform.defs.resources import RetailPathsResource, WarehouseResource
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


def _chart_asset(
    name: str,
    source: dg.AssetKey,
    description: str,
    render: Callable[[WarehouseResource, Path], Path],
) -> dg.AssetsDefinition:
    @dg.asset(
        name=name,
        key_prefix=["charts"],
        deps=[source],
        group_name="charts",
        kinds={"matplotlib", "png"},
        description=description,
    )
    def _chart(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, retail_paths: RetailPathsResource
    ) -> dg.MaterializeResult:
        path = render(warehouse, retail_paths.paths().charts / f"{name}.png")
        context.log.info(f"Wrote {path}")
        return dg.MaterializeResult(metadata=chart_metadata(path, ".".join(source.path)))

    return _chart


def _kpis(warehouse: WarehouseResource) -> pd.DataFrame:
    return _read_table(warehouse, "SELECT * FROM marts.monthly_kpis ORDER BY month")


def _invoice_amounts(warehouse: WarehouseResource, path: Path) -> Path:
    amounts = _read_table(warehouse, read_sql("queries/invoice_amounts.sql"))["amount"]
    stats = _read_table(warehouse, "SELECT p85_amount FROM marts.invoice_amount_stats WHERE variant = 'all'")
    p85 = float(stats["p85_amount"].iloc[0]) if not stats.empty else None
    return charts.plot_invoice_amounts(amounts, p85, path)


monthly_net_sales_chart = _chart_asset(
    "monthly_net_sales",
    MONTHLY_KPIS,
    "Net sales per month, in pounds.",
    lambda warehouse, path: charts.plot_monthly_net_sales(_kpis(warehouse), path),
)
orders_chart = _chart_asset(
    "placed_vs_canceled_orders",
    MONTHLY_KPIS,
    "Placed and canceled orders per month, with the cancellation rate.",
    lambda warehouse, path: charts.plot_orders(_kpis(warehouse), path),
)
sales_growth_chart = _chart_asset(
    "sales_growth",
    MONTHLY_KPIS,
    "Month-over-month growth of net sales, in percent.",
    lambda warehouse, path: charts.plot_sales_growth(_kpis(warehouse), path),
)
customers_chart = _chart_asset(
    "customers",
    MONTHLY_KPIS,
    "Active customers per month, split into new and existing.",
    lambda warehouse, path: charts.plot_customers(_kpis(warehouse), path),
)
invoice_amounts_chart = _chart_asset(
    "invoice_amount_distribution",
    INVOICE_STATS,
    "Distribution of invoice amounts, all invoices and without outliers (above the 85th percentile).",
    _invoice_amounts,
)
segment_sizes_chart = _chart_asset(
    "rfm_segment_sizes",
    RFM_SEGMENTS,
    "Customers per RFM segment, with their share.",
    lambda warehouse, path: charts.plot_segment_sizes(
        _read_table(warehouse, "SELECT * FROM marts.rfm_segments ORDER BY customers DESC"), path
    ),
)
rfm_distributions_chart = _chart_asset(
    "rfm_distributions",
    RFM_SCORES,
    "Distributions of recency (days), frequency (invoices) and monetary value (pounds) over customers.",
    lambda warehouse, path: charts.plot_rfm_distributions(
        _read_table(warehouse, "SELECT * FROM marts.rfm_scores"), path
    ),
)
