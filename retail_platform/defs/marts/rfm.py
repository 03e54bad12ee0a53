"""RFM marts: per-customer scores and segments (SPEC 4.3), scored in pandas where it adds value."""

import dagster as dg
import pandas as pd
from sqlalchemy import text

from retail_platform.analytics.rfm import SCORE_COLUMNS, score_customers
from retail_platform.defs.cleaning.assets import order_lines
from retail_platform.defs.metadata import table_metadata
from retail_platform.defs.resources import WarehouseResource
from retail_platform.defs.sql_assets import sql_table_asset
from retail_platform.warehouse.bulk import replace_contents
from retail_platform.warehouse.sql_files import read_sql


class RfmConfig(dg.Config):
    """``snapshot_date`` (YYYY-MM-DD) fixes the day recency is measured from; by default it is the midnight
    after the latest purchase, so that re-running on the same data gives the same scores."""

    snapshot_date: str | None = None


@dg.asset(
    key=["marts", "rfm_scores"],
    deps=[order_lines.key],
    group_name="marts",
    kinds={"postgres", "pandas"},
    description="RFM per customer with purchases (SPEC 4.3): recency_days, frequency, monetary, their 1..5 "
    "quantile scores, rfm_score ('545') and segment. Grain: one customer.",
)
def rfm_scores(context: dg.AssetExecutionContext, config: RfmConfig, warehouse: WarehouseResource):
    engine = warehouse.get_engine()
    with engine.connect() as conn:
        facts = pd.read_sql_query(text(read_sql("queries/rfm_customer_facts.sql")), conn)
    snapshot = pd.Timestamp(config.snapshot_date) if config.snapshot_date else None
    scores = score_customers(facts, snapshot)
    context.log.info(f"Scored {len(scores):,} customers")
    with engine.begin() as conn:
        replace_contents(conn, "marts.rfm_scores", scores, SCORE_COLUMNS)  # readers never blocked
        metadata = table_metadata(conn, "marts.rfm_scores", order_by="customer_id")
    if not scores.empty:
        metadata["snapshot_date"] = dg.MetadataValue.text(str(scores["snapshot_date"].iloc[0].date()))
        metadata["segments"] = dg.MetadataValue.json(scores["segment"].value_counts().to_dict())
    return dg.MaterializeResult(metadata=metadata)


rfm_segments = sql_table_asset(
    "marts.rfm_segments",
    deps=[rfm_scores.key],
    group_name="marts",
    order_by="customers",
    description="The ten RFM segments: customers, share of customers, mean recency / frequency / monetary "
    "and total monetary. Grain: one segment (all ten, even when empty).",
)
