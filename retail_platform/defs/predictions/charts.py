"""The evaluation's chart asset (group ``charts``): predicted vs actual holdout purchases by decile."""

import dagster as dg
import pandas as pd
from sqlalchemy import text

from retail_platform.analytics.prediction_charts import plot_clv_deciles
from retail_platform.defs.charts.assets import chart_metadata
from retail_platform.defs.predictions.clv import CLV_EVALUATION_DECILES, CLV_MODEL_EVALUATION
from retail_platform.defs.resources import RetailPathsResource, WarehouseResource

CHART_NAME = "clv_purchases_by_decile"


def _read(warehouse: WarehouseResource, query: str) -> pd.DataFrame:
    with warehouse.get_engine().connect() as conn:
        return pd.read_sql_query(text(query), conn)


@dg.asset(
    name=CHART_NAME,
    key_prefix=["charts"],
    deps=[CLV_EVALUATION_DECILES, CLV_MODEL_EVALUATION],
    group_name="charts",
    kinds={"matplotlib", "png"},
    description="Mean holdout purchases per customer by decile of BG/NBD predicted purchases: predicted, "
    "past-rate baseline and actual, with the evaluation's MAE and churn AUC.",
)
def clv_purchases_by_decile(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, retail_paths: RetailPathsResource
) -> dg.MaterializeResult:
    deciles = _read(warehouse, "SELECT * FROM marts.clv_evaluation_deciles ORDER BY decile")
    evaluation = _read(warehouse, "SELECT * FROM marts.clv_model_evaluation ORDER BY metric")
    path = plot_clv_deciles(deciles, evaluation, retail_paths.paths().charts / f"{CHART_NAME}.png")
    context.log.info(f"Wrote {path}")
    return dg.MaterializeResult(metadata=chart_metadata(path, "marts.clv_evaluation_deciles"))
