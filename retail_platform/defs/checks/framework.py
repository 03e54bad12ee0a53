"""How a check reports: an ``AssetCheckResult`` for the UI, and an alert in ``ops.alerts`` (plus the webhook)
when it fails, resolved when it passes again; and how the checks of one asset run as one step.

The checks of one asset (or of a family of assets, as the charts' PNG checks) are one ``multi_asset_check``
that can be subset: each check is still its own check in the UI, run alone from there when wanted, but a run
pays Dagster's cost of a step (its start and end events) once for the family instead of once per check: a
day's refresh runs 9 check steps instead of 27."""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

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
    """Raise or resolve the check's alert, then hand the result back to Dagster. The check is the one the
    result names (a step of several checks names each), else the step's only one. ``resolve=False``: a pass
    that does not clear an open alert (a check of some months says nothing of the months that failed)."""
    if result.check_name is not None and result.asset_key is not None:
        check_key = dg.AssetCheckKey(result.asset_key, result.check_name)
    else:
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


@dataclass(frozen=True)
class SqlCheck:
    """A check whose logic is ``sql/checks/<name>.sql``: one row with ``failed_rows`` and ``details``.

    ``monthly``: the SQL takes ``:month_start`` / ``:month_end`` and checks only the months its run rebuilt
    (``partitions.months_of_run``), so its cost grows with the change, not the history."""

    asset: dg.AssetKey
    name: str
    description: str
    blocking: bool = False
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR
    params: Callable[[], dict] | None = None
    monthly: bool = False

    @property
    def key(self) -> dg.AssetCheckKey:
        return dg.AssetCheckKey(self.asset, self.name)

    @property
    def spec(self) -> dg.AssetCheckSpec:
        return dg.AssetCheckSpec(
            self.name, asset=self.asset, description=self.description, blocking=self.blocking
        )

    def evaluate(
        self, context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource, alerting: AlertingResource
    ) -> dg.AssetCheckResult:
        bound = self.params() if self.params else {}
        metadata: dict[str, object] = {}
        every_month = True
        if self.monthly:
            months = months_of_run(context.run.tags)
            every_month = months.every
            bound |= months.params
            metadata["months_checked"] = "every month" if months.every else f"{months.start} .. {months.end}"
        with warehouse.get_engine().connect() as conn:
            row = conn.execute(text(read_sql(f"checks/{self.name}.sql")), bound).one()
        failed = int(row.failed_rows or 0)
        metadata |= {"failed_rows": failed, "details": dg.MetadataValue.text(str(row.details or ""))}
        result = dg.AssetCheckResult(
            asset_key=self.asset,
            check_name=self.name,
            passed=failed == 0,
            severity=self.severity,
            metadata=metadata,
        )
        # a pass over some months does not resolve a failure found in others: a check of every month does
        return report(context, warehouse, alerting, result, resolve=every_month)


def sql_check(
    asset: dg.AssetKey,
    name: str,
    *,
    description: str,
    blocking: bool = False,
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
    params: Callable[[], dict] | None = None,
    monthly: bool = False,
) -> SqlCheck:
    """One SQL check, for ``sql_checks`` to run with its asset's others (a missing file fails at import)."""
    read_sql(f"checks/{name}.sql")
    return SqlCheck(asset, name, description, blocking, severity, params, monthly)


def sql_checks(name: str, checks: Sequence[SqlCheck]) -> dg.AssetChecksDefinition:
    """``checks`` as one step named ``name``, each evaluated when selected, in order. A blocking check that
    fails stops what is downstream of its asset; the step still evaluates the others."""

    @dg.multi_asset_check(name=name, specs=[check.spec for check in checks], can_subset=True)
    def _checks(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource, alerting: AlertingResource
    ) -> Iterator[dg.AssetCheckResult]:
        selected = context.selected_asset_check_keys
        for check in checks:
            if check.key in selected:
                yield check.evaluate(context, warehouse, alerting)

    return _checks
