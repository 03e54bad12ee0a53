"""The raw layer: files in the landing folder become ``raw.transactions``, with the load ledger and the
rejected lines beside it (SPEC §3). One asset function materializes all three tables, since they are written
together in each file's transaction.

Two ways to run it: with no ``files`` in its config it loads every file waiting in the landing folder (the
full refresh, ``retail-platform run``); with ``files`` it loads just those, in that order (``load_file_job``:
one batch per sensor tick, or from the launchpad). A run for named files reports only the tables it
changed: a duplicate adds a ledger row but no line, so it does not make ``raw/transactions`` look updated and
set off a downstream refresh for nothing.

Each file has its own transaction. A file whose load raises does not stop the others: the rest load, what
they changed is reported, and then the step fails naming the failed files, so the run shows as failed and the
sensor retries those files (they are still in the landing folder) after their own backoff.
"""

import time
from pathlib import Path

import dagster as dg
from pydantic import Field
from sqlalchemy import text

from retail_platform.defs.metadata import table_metadata
from retail_platform.defs.resources import RetailPathsResource, WarehouseResource
from retail_platform.ingestion.landing import FailedLoad, load_landing, ready_files
from retail_platform.ingestion.loader import DEFAULT_MAX_REJECTED_SHARE
from retail_platform.ingestion.summary import files_markdown, run_totals
from retail_platform.settings import current_settings

RAW_TRANSACTIONS = dg.AssetKey(["raw", "transactions"])
RAW_FILE_LOADS = dg.AssetKey(["raw", "file_loads"])
RAW_REJECTED_LINES = dg.AssetKey(["raw", "rejected_lines"])
# Dagster concurrency pool of the load: the deployed instance (dagster.yaml) and the local one allow one run
# holding it at a time, so two loads into the warehouse never run at once.
WAREHOUSE_LOAD_POOL = "retail_warehouse_load"


class LandingLoadConfig(dg.Config):
    """How strict the load is, and what it loads."""

    max_rejected_share: float = Field(
        default=DEFAULT_MAX_REJECTED_SHARE,
        description="Above this share of invalid lines a file is rejected as a whole.",
    )
    files: list[str] = Field(
        default=[],
        description="Names of files in the landing folder to load (load_file_job). Empty: every ready file.",
    )
    min_file_age_seconds: float = Field(
        default=0.0,
        description="With no `files`: leave alone files modified less than this many seconds ago (a "
        "producer may still be writing them in place). The weekly schedule sets it.",
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            RAW_TRANSACTIONS,
            description="Every loaded invoice line, exactly once (grain: one line of one export, identified by "
            "its content and its copy number among identical lines of the export), with its source file, row and "
            "load id. A view over raw.transaction_lines.",
            group_name="raw",
            kinds={"postgres"},
            skippable=True,
        ),
        dg.AssetSpec(
            RAW_FILE_LOADS,
            description="The load ledger: one row per file seen, with lines read = loaded + already present "
            "+ rejected, status and error.",
            group_name="raw",
            kinds={"postgres"},
            skippable=True,
        ),
        dg.AssetSpec(
            RAW_REJECTED_LINES,
            description="Lines that could not be loaded: file, row, raw text and the reason naming the column.",
            group_name="raw",
            kinds={"postgres"},
            skippable=True,
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
    """Load every ready file from the landing folder (or the ``files`` named in the config), then file each
    away (archive/ or rejected/)."""
    paths = retail_paths.paths()
    engine = warehouse.get_engine()
    files = _files_to_load(context, config, paths.landing)
    context.log.info(
        f"Loading {'every ready file' if files is None else ', '.join(p.name for p in files) or 'nothing'} "
        f"from {paths.landing} into {warehouse.describe()}"
    )
    failures: list[FailedLoad] = []
    results = load_landing(
        engine,
        paths.landing,
        paths.archive,
        paths.rejected,
        files=files,
        run_id=context.run.run_id,
        max_rejected_share=config.max_rejected_share,
        plausibility=current_settings().plausibility,
        progress=context.log.info,
        failures=failures,
    )
    for result in results:
        if not result.ok:
            context.log.warning(f"Rejected {result.file_name}: {result.error} (report in {paths.rejected})")
        elif result.status == "duplicate":
            context.log.info(f"{result.file_name}: nothing loaded, {result.error}")
    totals = run_totals(results)
    files_table = files_markdown(results)
    with engine.connect() as conn:
        # one scan of the (big) table for its count and its span
        span = conn.execute(
            text("SELECT count(*), min(invoice_date), max(invoice_date) FROM raw.transactions")
        ).one()
        # the preview in physical order (loads append): no sort of the whole view for five rows
        transactions_meta = table_metadata(conn, "raw.transactions", row_count=span[0])
        ledger_meta = table_metadata(conn, "raw.file_loads", order_by="load_id")
        rejected_meta = table_metadata(conn, "raw.rejected_lines", order_by="rejected_id")
    # Every ready file (the full refresh): all three tables, as before. Named files: what changed.
    every_table = not config.files
    if every_table or any(result.lines_loaded for result in results):
        yield dg.MaterializeResult(
            asset_key=RAW_TRANSACTIONS,
            metadata={
                **transactions_meta,
                **{f"this_run/{key}": dg.MetadataValue.int(value) for key, value in totals.items()},
                "this_run/files": dg.MetadataValue.md(files_table),
                "first_invoice_date": dg.MetadataValue.text(str(span[1])),
                "last_invoice_date": dg.MetadataValue.text(str(span[2])),
            },
        )
    if every_table or results:
        yield dg.MaterializeResult(
            asset_key=RAW_FILE_LOADS,
            metadata={
                **ledger_meta,
                "this_run/files": dg.MetadataValue.md(files_table),
            },
        )
    if every_table or any(result.lines_rejected for result in results):
        yield dg.MaterializeResult(asset_key=RAW_REJECTED_LINES, metadata=rejected_meta)
    if not (every_table or results or failures):
        context.log.info("Nothing to load: no asset was materialized")
    if failures:
        raise dg.Failure(
            f"{len(failures)} of {len(failures) + len(results)} file(s) failed to load and stay in the landing "
            "folder for a retry: " + "; ".join(f"{f.file_name}: {f.error}" for f in failures),
            metadata={"failed_files": dg.MetadataValue.json([f.file_name for f in failures])},
        )


def _files_to_load(
    context: dg.AssetExecutionContext, config: LandingLoadConfig, landing: Path
) -> list[Path] | None:
    """The named files that are still in the landing folder, or None for every ready file."""
    if not config.files:
        if config.min_file_age_seconds <= 0:
            return None
        cutoff = time.time() - config.min_file_age_seconds
        ready = ready_files(landing)
        files = [path for path in ready if path.lstat().st_mtime <= cutoff]
        if len(files) < len(ready):
            context.log.info(
                f"Left {len(ready) - len(files)} file(s) modified in the last {config.min_file_age_seconds:.0f} s "
                "for the file-drop sensor"
            )
        return files
    files = []
    for name in config.files:
        path = landing / name
        if Path(name).name != name:
            raise dg.Failure(f"{name!r} is not a file name in the landing folder")
        if path.exists() or path.is_symlink():  # a link, FIFO, ... is recorded and moved (landing)
            files.append(path)
        else:
            context.log.warning(
                f"{name} is no longer in the landing folder {landing}: another run loaded it already "
                "(see raw.file_loads and the archive/ and rejected/ folders)"
            )
    return files
