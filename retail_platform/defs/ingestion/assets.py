"""The raw layer: files in the landing folder become ``raw.transactions``, with the load ledger and the
rejected lines beside it (SPEC §3). One asset function materializes all three tables, since they are written
together in each file's transaction."""

import dagster as dg
from sqlalchemy import text

from retail_platform.defs.metadata import table_metadata
from retail_platform.defs.resources import RetailPathsResource, WarehouseResource
from retail_platform.ingestion.landing import load_landing
from retail_platform.ingestion.loader import DEFAULT_MAX_REJECTED_SHARE

RAW_TRANSACTIONS = dg.AssetKey(["raw", "transactions"])
RAW_FILE_LOADS = dg.AssetKey(["raw", "file_loads"])
RAW_REJECTED_LINES = dg.AssetKey(["raw", "rejected_lines"])
# Dagster concurrency pool of the load: the deployed instance (dagster.yaml) and the local one allow one run
# holding it at a time, so two loads into the warehouse never run at once.
WAREHOUSE_LOAD_POOL = "retail_warehouse_load"


class LandingLoadConfig(dg.Config):
    """How strict the load is: above this share of invalid lines a file is rejected as a whole."""

    max_rejected_share: float = DEFAULT_MAX_REJECTED_SHARE


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            RAW_TRANSACTIONS,
            description="Every loaded invoice line, exactly once (grain: one line of one export, identified by "
            "its content and occurrence number), with its source file, row and load id.",
            group_name="raw",
            kinds={"postgres"},
        ),
        dg.AssetSpec(
            RAW_FILE_LOADS,
            description="The load ledger: one row per file seen, with lines read = loaded + already present "
            "+ rejected, status and error.",
            group_name="raw",
            kinds={"postgres"},
        ),
        dg.AssetSpec(
            RAW_REJECTED_LINES,
            description="Lines that could not be loaded: file, row, raw text and the reason naming the column.",
            group_name="raw",
            kinds={"postgres"},
        ),
    ],
    pool=WAREHOUSE_LOAD_POOL,
)
def raw_transactions(
    context: dg.AssetExecutionContext,
    config: LandingLoadConfig,
    warehouse: WarehouseResource,
    retail_paths: RetailPathsResource,
):
    """Load every ready file from the landing folder, then file each away (archive/ or rejected/)."""
    paths = retail_paths.paths()
    engine = warehouse.get_engine()
    context.log.info(f"Loading files from {paths.landing} into {warehouse.describe()}")
    results = load_landing(
        engine,
        paths.landing,
        paths.archive,
        paths.rejected,
        run_id=context.run.run_id,
        max_rejected_share=config.max_rejected_share,
        progress=context.log.info,
    )
    for result in results:
        if not result.ok:
            context.log.warning(f"Rejected {result.file_name}: {result.error} (report in {paths.rejected})")
    run_totals = {
        "files_seen": len(results),
        "files_rejected": sum(not result.ok for result in results),
        "lines_read": sum(result.lines_read for result in results),
        "lines_loaded": sum(result.lines_loaded for result in results),
        "lines_already_present": sum(result.lines_already_present for result in results),
        "lines_rejected": sum(result.lines_rejected for result in results),
    }
    files_table = "\n".join(
        ["| file | status | read | loaded | already present | rejected |", "|---|---|---|---|---|---|"]
        + [
            f"| {r.file_name} | {r.status} | {r.lines_read:,} | {r.lines_loaded:,} | "
            f"{r.lines_already_present:,} | {r.lines_rejected:,} |"
            for r in results
        ]
    )
    with engine.connect() as conn:
        transactions_meta = table_metadata(conn, "raw.transactions", order_by="line_id")
        ledger_meta = table_metadata(conn, "raw.file_loads", order_by="load_id")
        rejected_meta = table_metadata(conn, "raw.rejected_lines", order_by="rejected_id")
        span = conn.execute(text("SELECT min(invoice_date), max(invoice_date) FROM raw.transactions")).one()
    yield dg.MaterializeResult(
        asset_key=RAW_TRANSACTIONS,
        metadata={
            **transactions_meta,
            **{f"this_run/{key}": dg.MetadataValue.int(value) for key, value in run_totals.items()},
            "this_run/files": dg.MetadataValue.md(files_table if results else "_no files waiting_"),
            "first_invoice_date": dg.MetadataValue.text(str(span[0])),
            "last_invoice_date": dg.MetadataValue.text(str(span[1])),
        },
    )
    yield dg.MaterializeResult(asset_key=RAW_FILE_LOADS, metadata=ledger_meta)
    yield dg.MaterializeResult(asset_key=RAW_REJECTED_LINES, metadata=rejected_meta)
