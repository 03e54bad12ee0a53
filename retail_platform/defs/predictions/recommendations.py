"""Product recommendations (SPEC 4.5): the mart and its hit-rate evaluation on the time split, as assets."""

import dagster as dg
import pandas as pd

from retail_platform.analytics import clv
from retail_platform.analytics import recommendations as recs
from retail_platform.analytics.evaluation import TimeSplit
from retail_platform.defs.cleaning import assets as cleaning
from retail_platform.defs.predictions import common
from retail_platform.defs.predictions.clv import CUSTOMER_LIFETIME_VALUE
from retail_platform.defs.predictions.common import SplitConfig, floats, mart_spec, read_frame, replace_table
from retail_platform.defs.resources import WarehouseResource

PRODUCT_RECOMMENDATIONS = dg.AssetKey(["marts", "product_recommendations"])
RECOMMENDATION_EVALUATION = dg.AssetKey(["marts", "recommendation_evaluation"])
PAIR_TYPES = {
    "customer_id": "int64",
    "stock_code": "category",
    "first_purchase": "datetime64[ns]",
    "last_purchase": "datetime64[ns]",
}
PRODUCT_TYPES = {
    "stock_code": "str",
    "description": "object",
    "invoices": "int64",
    "calibration_invoices": "int64",
}
EVALUATION_COLUMNS = ("method", "k", "customers", "hits", "hit_rate", *common.SPLIT_COLUMNS)


class RecommendationConfig(SplitConfig):
    """``snapshot_date``: only purchases before it count for the lists (default: all) and the evaluation's
    holdout ends there (default: the midnight after the latest purchase); ``horizon_days``: the holdout's
    length; ``neighbours``: how many most similar products each product keeps."""

    neighbours: int = recs.DEFAULT_NEIGHBOURS


def _pairs(warehouse: WarehouseResource) -> pd.DataFrame:
    """Who bought what: millions of rows at 10,673,710 lines, read as compact typed columns."""
    return read_frame(warehouse.get_engine(), "recommendation_customer_products.sql", PAIR_TYPES)


def _products(
    warehouse: WarehouseResource, before: pd.Timestamp | None, cutoff: pd.Timestamp
) -> pd.DataFrame:
    """Every product bought before ``before`` (default: ever), with its invoices then and before ``cutoff``."""
    before = before if before is not None else pd.Timestamp.max.normalize()
    params = {"before": before.to_pydatetime(), "cutoff": cutoff.to_pydatetime()}
    return read_frame(warehouse.get_engine(), "recommendation_products.sql", PRODUCT_TYPES, params)


def _calibration(products: pd.DataFrame) -> pd.DataFrame:
    """The products bought before the split's cutoff, with their popularity then."""
    calibration = products[products["calibration_invoices"] > 0]
    return calibration.assign(invoices=calibration["calibration_invoices"])


@dg.multi_asset(
    name="product_recommendations",
    specs=[
        mart_spec(
            PRODUCT_RECOMMENDATIONS,
            deps=[cleaning.order_lines.key, CUSTOMER_LIFETIME_VALUE],
            model_kind="scipy",
            description="For each scored customer (marts.customer_lifetime_value), the 10 products they have "
            "not bought with the highest item-to-item co-purchase similarity score, popular products filling "
            "the rest (source). Non-product codes are never recommended. Grain: one customer x rank.",
        ),
        mart_spec(
            RECOMMENDATION_EVALUATION,
            deps=[cleaning.order_lines.key],
            model_kind="scipy",
            description="Hit rate at 10 on the time split of the CLV evaluation (SPEC 4.5): of the customers "
            "who bought a product new to them in the holdout, the share with one in their list, for the "
            "recommender (fitted on the calibration period) and for popularity alone. Grain: one method.",
        ),
    ],
)
def product_recommendations(
    context: dg.AssetExecutionContext, config: RecommendationConfig, warehouse: WarehouseResource
):
    """One step for both tables: they read the same few hundred thousand (customer, product) rows."""
    pairs = _pairs(warehouse)
    last = pairs.pop("last_purchase")  # only its latest is needed: not kept beside millions of pairs
    split = config.split(clv.default_snapshot(last if not last.empty else pd.Series([pd.Timestamp(0)])))
    del last
    snapshot = pd.Timestamp(config.snapshot_date).normalize() if config.snapshot_date else None
    products = _products(warehouse, snapshot, split.cutoff)
    yield _recommendations(context, config, warehouse, pairs, products, snapshot)
    yield _evaluation(context, config, warehouse, pairs, products, split)


def _recommendations(
    context: dg.AssetExecutionContext,
    config: RecommendationConfig,
    warehouse: WarehouseResource,
    pairs: pd.DataFrame,
    products: pd.DataFrame,
    snapshot: pd.Timestamp | None,
) -> dg.MaterializeResult:
    engine = warehouse.get_engine()
    customers = read_frame(engine, "recommendation_scored_customers.sql", {"customer_id": "int64"})
    customers = customers["customer_id"].to_numpy()
    if snapshot is not None:
        pairs = pairs[pairs["first_purchase"] < snapshot]
    columns = list(recs.RECOMMENDATION_COLUMNS)
    if products.empty or len(customers) == 0:
        empty = pd.DataFrame(columns=columns)
        metadata = replace_table(engine, "marts.product_recommendations", empty, columns)
        return dg.MaterializeResult(asset_key=PRODUCT_RECOMMENDATIONS, metadata=metadata)
    popularity = recs.popularity_series(products)
    bought = recs.purchase_matrix(pairs, pd.Index(popularity.index), customers)
    recommended = recs.with_descriptions(
        recs.recommend(bought, popularity, neighbours=config.neighbours), products
    )
    metadata = replace_table(
        engine, "marts.product_recommendations", recommended, columns, order_by="customer_id"
    )
    sources = recommended["source"].value_counts().to_dict()
    context.log.info(f"{len(customers):,} customers, {len(products):,} products: {sources}")
    metadata.update(
        {
            "customers": dg.MetadataValue.int(len(customers)),
            "products": dg.MetadataValue.int(len(products)),
            "sources": dg.MetadataValue.json({key: int(value) for key, value in sources.items()}),
            "neighbours": dg.MetadataValue.int(config.neighbours),
        }
    )
    return dg.MaterializeResult(asset_key=PRODUCT_RECOMMENDATIONS, metadata=metadata)


def _evaluation(
    context: dg.AssetExecutionContext,
    config: RecommendationConfig,
    warehouse: WarehouseResource,
    pairs: pd.DataFrame,
    products: pd.DataFrame,
    split: TimeSplit,
) -> dg.MaterializeResult:
    engine = warehouse.get_engine()
    result = None
    if not pairs.empty:
        calibration_products = _calibration(products)
        if calibration_products.empty:
            context.log.warning(
                f"No recommendation evaluation: nothing was bought before {split.cutoff.date()}"
            )
        else:
            before = pairs["first_purchase"] < split.snapshot
            pairs = pairs if before.all() else pairs[before]  # no copy of every pair in the default case
            result = recs.evaluate(pairs, calibration_products, split, neighbours=config.neighbours)
    if result is None:
        empty = pd.DataFrame(columns=EVALUATION_COLUMNS)
        metadata = replace_table(engine, "marts.recommendation_evaluation", empty, EVALUATION_COLUMNS)
        return dg.MaterializeResult(asset_key=RECOMMENDATION_EVALUATION, metadata=metadata)
    context.log.info(f"Recommendation evaluation:\n{result.to_string()}")
    metadata = replace_table(
        engine, "marts.recommendation_evaluation", result, EVALUATION_COLUMNS, order_by="method"
    )
    rates = result.set_index("method")["hit_rate"]
    metadata.update(
        {
            "calibration_end": dg.MetadataValue.text(str(split.cutoff.date())),
            "customers": dg.MetadataValue.int(int(result["customers"].iloc[0])),
            **floats(
                {
                    "hit_rate_similarity": rates.get("similarity"),
                    "hit_rate_popularity": rates.get("popularity"),
                }
            ),
        }
    )
    return dg.MaterializeResult(asset_key=RECOMMENDATION_EVALUATION, metadata=metadata)
