"""The next best action per customer (SPEC 4.5), built in SQL from the RFM segment, the CLV mart and the
recommendations: the rules are ``sql/transforms/marts/customer_actions.sql``. The web application reads them
through the view ``marts.webapp_next_best_actions`` (migration 010)."""

import dagster as dg
from sqlalchemy import text

from retail_platform.defs.marts import rfm
from retail_platform.defs.predictions.clv import CUSTOMER_LIFETIME_VALUE
from retail_platform.defs.predictions.recommendations import PRODUCT_RECOMMENDATIONS
from retail_platform.defs.resources import WarehouseResource
from retail_platform.defs.sql_assets import rebuild_table
from retail_platform.warehouse.sql_files import read_sql

CUSTOMER_ACTIONS = dg.AssetKey(["marts", "customer_actions"])


@dg.asset(
    key=CUSTOMER_ACTIONS,
    deps=[rfm.rfm_scores.key, CUSTOMER_LIFETIME_VALUE, PRODUCT_RECOMMENDATIONS],
    group_name="marts",
    kinds={"postgres", "sql"},
    description="One next best action per scored customer (win-back offer, no contact, loyalty reward, "
    "second-purchase nudge, retention reminder, product campaign) from segment, churn risk, CLV and recency, "
    "with the rule that matched, a reason a marketer can read and the top 3 recommended stock codes. "
    "Read by the web application through marts.webapp_next_best_actions. Grain: one customer.",
)
def customer_actions(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    engine = warehouse.get_engine()
    metadata = rebuild_table(engine, "marts.customer_actions", order_by="customer_id")
    with engine.connect() as conn:
        counts = dict(conn.execute(text(read_sql("queries/customer_action_counts.sql"))).all())
    context.log.info(f"Actions: {counts}")
    metadata["actions"] = dg.MetadataValue.json({action: int(n) for action, n in counts.items()})
    return dg.MaterializeResult(metadata=metadata)
