"""How a check reports: an ``AssetCheckResult`` for the UI, and an alert in ``ops.alerts`` (plus the webhook)
when it fails, resolved when it passes again."""

from collections.abc import Callable

import dagster as dg
from sqlalchemy import text

from retail_platform.defs.alerting import AlertingResource
from retail_platform.defs.partitions import months_of_run
from retail_platform.defs.resources import WarehouseResource
from retail_platform.monitoring.alerts import Alert
from retail_platform.warehouse.sql_files import read_sql


def report(
    context: dg.AssetCheckExecutionContext,
    warehouse: WarehouseResource,
    alerting: AlertingResource,
    result: dg.AssetCheckResult,
    resolve: bool = True,
) -> dg.AssetCheckResult:
    """Raise or resolve the check's alert, then hand the result back to Dagster. ``resolve=False``: a pass
    that does not clear an open alert (a check of some months says nothing of the months that failed)."""
    check_key = context.check_specs[0].key
    asset = check_key.asset_key.to_user_string()
    engine = warehouse.get_engine()
    if result.passed:
        if resolve:
            alerting.resolve(engine, kind="check_failure", asset_key=asset, check_name=check_key.name)
        return result
    details = result.metadata.get("details")
    detail_text = getattr(details, "value", details)
    message = f"check {check_key.name} on {asset} failed" + (f": {detail_text}" if detail_text else "")
    alerting.raise_alert(
        engine,
        Alert(
            kind="check_failure",
            severity=result.severity.value,
            message=message[:2000],
            asset_key=asset,
            check_name=check_key.name,
            run_id=context.run.run_id,
            ui_url=alerting.link(asset_key=asset, checks=True),
        ),
    )
    context.log.warning(message)
    return result


def sql_check(
    asset: dg.AssetKey,
    name: str,
    *,
    description: str,
    blocking: bool = False,
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
    params: Callable[[], dict] | None = None,
    monthly: bool = False,
) -> dg.AssetChecksDefinition:
    """A check whose logic is ``sql/checks/<name>.sql``: one row with ``failed_rows`` and ``details``.

    ``monthly``: the SQL takes ``:month_start`` / ``:month_end`` and checks only the months its run rebuilt
    (``partitions.months_of_run``), so its cost grows with the change, not the history."""
    read_sql(f"checks/{name}.sql")  # a missing file fails at import, not at run time

    @dg.asset_check(asset=asset, name=name, description=description, blocking=blocking)
    def _check(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource, alerting: AlertingResource
    ) -> dg.AssetCheckResult:
        bound = params() if params else {}
        metadata: dict[str, object] = {}
        every_month = True
        if monthly:
            months = months_of_run(context.run.tags)
            every_month = months.every
            bound |= months.params
            metadata["months_checked"] = "every month" if months.every else f"{months.start} .. {months.end}"
        with warehouse.get_engine().connect() as conn:
            row = conn.execute(text(read_sql(f"checks/{name}.sql")), bound).one()
        failed = int(row.failed_rows or 0)
        metadata |= {"failed_rows": failed, "details": dg.MetadataValue.text(str(row.details or ""))}
        result = dg.AssetCheckResult(passed=failed == 0, severity=severity, metadata=metadata)
        # a pass over some months does not resolve a failure found in others: a check of every month does
        return report(context, warehouse, alerting, result, resolve=every_month)

    return _check
