"""The shop's OLTP database as a second feed of ``raw.transactions``: an incremental extract with a high-water
mark (``retail_platform/oltp/extract.py``), under the same exactly-once line identity and ledger as the files.

``raw/shop_orders`` is the extract: each materialization reads the orders changed since the previous one and
loads their lines into ``raw.transactions`` (a ledger row ``oltp:<database>@<time>`` in ``raw.file_loads``).
Its table is the view ``raw.shop_orders``: the lines of ``raw.transactions`` that came from the shop.
``clean/order_lines`` depends on it as on ``raw/transactions``, since it reads the rows both write.
"""

import dagster as dg
from pydantic import Field
from sqlalchemy import text

from retail_platform.defs.ingestion.assets import WAREHOUSE_LOAD_POOL
from retail_platform.defs.metadata import table_metadata
from retail_platform.defs.resources import ShopDatabaseResource, WarehouseResource
from retail_platform.oltp.connection import database_exists, schema_applied
from retail_platform.oltp.extract import DEFAULT_MAX_REJECTED_SHARE, extract_shop, read_watermark
from retail_platform.warehouse.sql_files import read_sql

RAW_SHOP_ORDERS = dg.AssetKey(["raw", "shop_orders"])


class ShopExtractConfig(dg.Config):
    full: bool = Field(
        default=False,
        description="Ignore the high-water mark and extract every order again (safe: lines already loaded "
        "count as already present).",
    )
    max_rejected_share: float = Field(
        default=DEFAULT_MAX_REJECTED_SHARE,
        description="Above this share of invalid lines the extract is rejected as a whole (and the mark is "
        "not advanced). Default 1.0: invalid lines are quarantined in raw.rejected_lines, the rest loads.",
    )


@dg.asset(
    key=RAW_SHOP_ORDERS,
    group_name="raw",
    kinds={"postgres"},
    pool=WAREHOUSE_LOAD_POOL,
    check_specs=[
        dg.AssetCheckSpec(
            "shop_lines_reconcile",
            asset=RAW_SHOP_ORDERS,
            description="Every order line committed in the shop before the high-water mark is in "
            "raw.transactions exactly once: the shop's line count up to the mark equals the lines loaded "
            "from the shop (raw.shop_orders). Warns: a difference means lines were rejected, or the shop "
            "database was replaced.",
        )
    ],
    description="Incremental extract of the shop's OLTP database (shop.orders, shop.order_lines) into "
    "raw.transactions: every order written since the high-water mark (the source's snapshot at the previous "
    "extract, in ops.extract_watermarks), whole, under the same exactly-once line identity as the files. "
    "Cancellations are 'C' invoices with negative quantities, as in the exports.",
)
def shop_orders(
    context: dg.AssetExecutionContext,
    config: ShopExtractConfig,
    warehouse: WarehouseResource,
    shop: ShopDatabaseResource,
) -> dg.MaterializeResult:
    source = shop.source(warehouse)
    engine = warehouse.get_engine()
    with engine.connect() as conn:
        base = {
            **table_metadata(conn, "raw.shop_orders", order_by="line_id"),
            "source": dg.MetadataValue.text(source.describe()),
        }
    if not source.explicit and not database_exists(source.url):
        context.log.info(
            f"No shop database yet at {source.describe()}: nothing to extract (retail-platform simulate-shop "
            "creates it; RETAIL_OLTP_URL points at another one)"
        )
        return dg.MaterializeResult(
            metadata={**base, "status": "no shop database", "lines_loaded": 0},
            check_results=[_nothing_to_reconcile("no shop database yet")],
        )
    shop_engine = shop.get_engine(warehouse)
    if not schema_applied(shop_engine):
        if source.explicit:
            raise dg.Failure(f"{source.describe()} has no shop schema (shop.orders, shop.order_lines)")
        context.log.info(f"{source.describe()} has no shop schema yet: nothing to extract")
        return dg.MaterializeResult(
            metadata={**base, "status": "no shop schema", "lines_loaded": 0},
            check_results=[_nothing_to_reconcile("no shop schema yet")],
        )

    result = extract_shop(
        shop_engine,
        engine,
        run_id=context.run.run_id,
        max_rejected_share=config.max_rejected_share,
        full=config.full,
        progress=context.log.info,
    )
    if not result.ok:
        raise dg.Failure(
            f"the shop extract was rejected: {result.load.error}; the high-water mark was not advanced",
            metadata={"ledger_load_id": result.load.load_id},
        )
    with engine.connect() as conn:
        watermark = read_watermark(conn)
        base.update(table_metadata(conn, "raw.shop_orders", order_by="line_id"))
        raw_lines = conn.execute(text("SELECT count(*) FROM raw.transactions")).scalar_one()
    load = result.load
    metadata = {
        **base,
        "status": result.status,
        "orders_extracted": result.orders,
        "lines_extracted": result.lines,
        "lines_loaded": load.lines_loaded if load else 0,
        "lines_already_present": load.lines_already_present if load else 0,
        "lines_rejected": load.lines_rejected if load else 0,
        "ledger_load_id": dg.MetadataValue.int(load.load_id) if load and load.load_id else None,
        "invoices": dg.MetadataValue.text(f"{result.invoices[0]}..{result.invoices[1]}")
        if result.invoices
        else None,
        "high_water_mark": dg.MetadataValue.text(str(result.high_water_mark)),
        "snapshot_before": dg.MetadataValue.text(result.mark_before or "(none: every order)"),
        "snapshot_after": dg.MetadataValue.text(result.mark_after or ""),
        "reset_reason": dg.MetadataValue.text(result.reset_reason) if result.reset_reason else None,
        "extracts_so_far": watermark.extracts if watermark else 0,
        "raw_transactions_rows": raw_lines,
        "seconds": round(result.seconds, 2),
    }
    return dg.MaterializeResult(
        metadata={key: value for key, value in metadata.items() if value is not None},
        check_results=[_reconcile(shop_engine, engine, result.mark_after)],
    )


def _nothing_to_reconcile(why: str) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name="shop_lines_reconcile", passed=True, metadata={"details": f"{why}: nothing to reconcile"}
    )


def _reconcile(shop_engine, warehouse_engine, mark: str | None) -> dg.AssetCheckResult:
    with shop_engine.connect() as shop:
        in_shop = shop.execute(
            text(read_sql("extract/shop_lines_up_to_mark.sql")), {"mark": mark}
        ).scalar_one()
    with warehouse_engine.connect() as conn:
        loaded = conn.execute(text("SELECT count(*) FROM raw.shop_orders")).scalar_one()
    return dg.AssetCheckResult(
        check_name="shop_lines_reconcile",
        passed=in_shop == loaded,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "shop_lines_up_to_mark": in_shop,
            "warehouse_shop_lines": loaded,
            "details": "every shop line is loaded once"
            if in_shop == loaded
            else f"{in_shop:,} lines in the shop up to the mark, {loaded:,} loaded from the shop",
        },
    )
