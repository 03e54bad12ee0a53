"""Checks that compare a mart with its previous materialization: column schema changes (Dagster's built-in
check on ``dagster/column_schema``) and row-count drops (a silent loss of data is the failure nobody sees)."""

import warnings
from collections.abc import Iterator

import dagster as dg

from retail_platform.defs.alerting import AlertingResource
from retail_platform.defs.checks.framework import report
from retail_platform.defs.marts import kpis, rfm
from retail_platform.defs.resources import WarehouseResource
from retail_platform.settings import current_settings

ROW_DROP_WARN_SHARE = current_settings().checks.row_drop_warn_share
HISTORY_DEPTH = 400  # materializations looked through: more than the months since RETAIL_FIRST_MONTH
ROW_DROP_CHECK = "row_count_drop"
MART_KEYS = [*(table.key for table in kpis.SALES_MARTS), rfm.rfm_scores.key, rfm.rfm_segments.key]

with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.BetaWarning)
    schema_change_checks = dg.build_column_schema_change_checks(assets=MART_KEYS)


def row_counts(instance: dg.DagsterInstance, key: dg.AssetKey) -> list[int]:
    """Row counts of the latest two materializations that carry one, newest first. A full refresh of a
    month-partitioned mart also records a materialization for each month it rebuilt, without a count
    (``sql_assets.record_data_months``): those are looked past."""
    records = instance.fetch_materializations(key, limit=HISTORY_DEPTH).records
    counts = []
    for record in records:
        value = record.asset_materialization.metadata.get("dagster/row_count")
        if value is not None:
            counts.append(int(value.value))
            if len(counts) == 2:
                break
    return counts


def _row_drop_result(instance: dg.DagsterInstance, key: dg.AssetKey) -> dg.AssetCheckResult:
    counts = row_counts(instance, key)
    if len(counts) < 2:
        return dg.AssetCheckResult(
            asset_key=key,
            check_name=ROW_DROP_CHECK,
            passed=True,
            metadata={"details": "no previous materialization to compare"},
        )
    current, previous = counts
    drop = (previous - current) / previous if previous else 0.0
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=ROW_DROP_CHECK,
        passed=drop <= ROW_DROP_WARN_SHARE,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "current_rows": current,
            "previous_rows": previous,
            "drop_share": dg.MetadataValue.float(round(drop, 4)),
            "details": f"{previous:,} -> {current:,} rows ({drop:.1%} fewer)",
        },
    )


def row_count_drop_checks(name: str, keys: list[dg.AssetKey]) -> dg.AssetChecksDefinition:
    """A ``row_count_drop`` check on each of ``keys``, as one step (``framework``): each warns when its table
    lost more than ``ROW_DROP_WARN_SHARE`` of its rows since the previous materialization."""
    description = (
        f"Warns when the table lost more than {ROW_DROP_WARN_SHARE:.0%} of its rows since the previous "
        "materialization (RETAIL_CHECK_ROW_DROP_WARN_SHARE)."
    )

    @dg.multi_asset_check(
        name=name,
        specs=[dg.AssetCheckSpec(ROW_DROP_CHECK, asset=key, description=description) for key in keys],
        can_subset=True,
    )
    def _checks(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource, alerting: AlertingResource
    ) -> Iterator[dg.AssetCheckResult]:
        for key in keys:
            if dg.AssetCheckKey(key, ROW_DROP_CHECK) in context.selected_asset_check_keys:
                yield report(context, warehouse, alerting, _row_drop_result(context.instance, key))

    return _checks


mart_row_count_drop_checks = row_count_drop_checks("mart_row_count_drop_checks", MART_KEYS)
