"""Checks that compare a mart with its previous materialization: column schema changes (Dagster's built-in
check on ``dagster/column_schema``) and row-count drops (a silent loss of data is the failure nobody sees)."""

import warnings

import dagster as dg

from retail_platform.defs.alerting import AlertingResource
from retail_platform.defs.checks.framework import report
from retail_platform.defs.marts import kpis, rfm
from retail_platform.defs.resources import WarehouseResource
from retail_platform.settings import current_settings

ROW_DROP_WARN_SHARE = current_settings().checks.row_drop_warn_share
HISTORY_DEPTH = 400  # materializations looked through: more than the months since RETAIL_FIRST_MONTH
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


def _row_drop_check(key: dg.AssetKey) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=key,
        name="row_count_drop",
        description=f"Warns when the table lost more than {ROW_DROP_WARN_SHARE:.0%} of its rows since the "
        "previous materialization (RETAIL_CHECK_ROW_DROP_WARN_SHARE).",
    )
    def _check(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource, alerting: AlertingResource
    ) -> dg.AssetCheckResult:
        counts = row_counts(context.instance, key)
        if len(counts) < 2:
            result = dg.AssetCheckResult(
                passed=True, metadata={"details": "no previous materialization to compare"}
            )
        else:
            current, previous = counts
            drop = (previous - current) / previous if previous else 0.0
            result = dg.AssetCheckResult(
                passed=drop <= ROW_DROP_WARN_SHARE,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={
                    "current_rows": current,
                    "previous_rows": previous,
                    "drop_share": dg.MetadataValue.float(round(drop, 4)),
                    "details": f"{previous:,} -> {current:,} rows ({drop:.1%} fewer)",
                },
            )
        return report(context, warehouse, alerting, result)

    return _check


row_drop_checks = [_row_drop_check(key) for key in MART_KEYS]
