"""Asset health at a glance: last materialization, latest check results, freshness and open alerts.

Pure reading of the Dagster instance and the warehouse; ``retail-platform health`` prints it and the
freshness sensor reuses the freshness rule. "Failing" means: a check whose latest evaluation failed with
severity ERROR, an asset past its freshness window or never materialized, or an open ERROR alert. Failed
WARN checks and open WARN alerts are reported as warnings (``--strict`` counts them as failing).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

import dagster as dg
from sqlalchemy import Engine

from retail_platform.monitoring.alerts import open_alerts


@dataclass
class CheckHealth:
    name: str
    status: str  # passed | failed | not_evaluated | skipped | running
    severity: str | None = None
    evaluated_at: str | None = None
    blocking: bool = False


@dataclass
class AssetHealth:
    asset_key: str
    group: str | None
    last_materialized_at: str | None
    last_run_id: str | None
    freshness: str  # fresh | stale | never | no_policy
    freshness_window_hours: float | None
    checks: list[CheckHealth] = field(default_factory=list)


@dataclass
class HealthReport:
    assets: list[AssetHealth]
    open_alerts: list[dict]
    failures: list[str]
    warnings: list[str]

    def ok(self, strict: bool = False) -> bool:
        return not self.failures and not (strict and self.warnings)

    def as_dict(self) -> dict:
        return {
            "ok": self.ok(),
            "failures": self.failures,
            "warnings": self.warnings,
            "assets": [asdict(asset) for asset in self.assets],
            "open_alerts": [
                {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in a.items()}
                for a in self.open_alerts
            ],
        }


def freshness_status(last: datetime | None, window: timedelta | None, now: datetime | None = None) -> str:
    """``never`` / ``stale`` / ``fresh`` for an asset last materialized at ``last`` with the given window."""
    if window is None:
        return "no_policy"
    if last is None:
        return "never"
    now = now or datetime.now(UTC)
    return "fresh" if now - last <= window else "stale"


def freshness_window(node) -> timedelta | None:
    policy = getattr(node, "freshness_policy", None)
    window = getattr(policy, "fail_window", None) if policy is not None else None
    return window.to_timedelta() if hasattr(window, "to_timedelta") else window


def last_materialization(
    instance: dg.DagsterInstance, key: dg.AssetKey
) -> tuple[datetime | None, str | None]:
    event = instance.get_latest_materialization_event(key)
    if event is None:
        return None, None
    return datetime.fromtimestamp(event.timestamp, UTC), event.run_id


def _check_health(instance: dg.DagsterInstance, spec) -> CheckHealth:
    """The latest *completed* evaluation: a check planned in a run that stopped early (downstream of a failed
    blocking check) keeps its previous result rather than showing as unknown."""
    from dagster._core.storage.asset_check_execution_record import (
        COMPLETED_ASSET_CHECK_EXECUTION_RECORD_STATUSES,
    )

    health = CheckHealth(
        name=spec.name, status="not_evaluated", blocking=bool(getattr(spec, "blocking", False))
    )
    records = instance.event_log_storage.get_asset_check_execution_history(
        spec.key, limit=1, status=set(COMPLETED_ASSET_CHECK_EXECUTION_RECORD_STATUSES)
    )
    if not records:
        return health
    record = records[0]
    evaluation = (
        record.event.dagster_event.event_specific_data
        if record.event and record.event.dagster_event
        else None
    )
    if evaluation is None or not hasattr(evaluation, "passed"):
        health.status = str(record.status.value).lower()
        return health
    health.status = "passed" if evaluation.passed else "failed"
    health.severity = evaluation.severity.value
    health.evaluated_at = datetime.fromtimestamp(record.create_timestamp, UTC).isoformat()
    return health


def collect_health(defs: dg.Definitions, instance: dg.DagsterInstance, engine: Engine) -> HealthReport:
    graph = defs.resolve_asset_graph()
    specs_by_asset: dict[dg.AssetKey, list] = {}
    for check_key in graph.asset_check_keys:
        spec = graph.get_check_spec(check_key)
        specs_by_asset.setdefault(check_key.asset_key, []).append(spec)
    assets, failures, warnings = [], [], []
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        last, run_id = last_materialization(instance, key)
        window = freshness_window(node)
        status = freshness_status(last, window)
        checks = [
            _check_health(instance, spec)
            for spec in sorted(specs_by_asset.get(key, []), key=lambda s: s.name)
        ]
        name = key.to_user_string()
        assets.append(
            AssetHealth(
                asset_key=name,
                group=node.group_name,
                last_materialized_at=last.isoformat() if last else None,
                last_run_id=run_id,
                freshness=status,
                freshness_window_hours=window.total_seconds() / 3600 if window else None,
                checks=checks,
            )
        )
        if last is None:
            failures.append(f"{name}: never materialized")
        elif status == "stale":
            failures.append(f"{name}: stale (last materialized {last:%Y-%m-%d %H:%M} UTC)")
        for check in checks:
            if check.status == "failed":
                target = failures if check.severity == "ERROR" else warnings
                target.append(f"{name}: check {check.name} failed ({check.severity})")
    alerts = open_alerts(engine)
    for alert in alerts:
        if alert["kind"] == "run_failure":
            target = failures if alert["severity"] == "ERROR" else warnings
            target.append(f"open alert {alert['alert_id']}: {alert['message'][:160]}")
    return HealthReport(assets=assets, open_alerts=alerts, failures=failures, warnings=warnings)


def format_report(report: HealthReport) -> str:
    lines = []
    for asset in report.assets:
        when = asset.last_materialized_at[:16].replace("T", " ") if asset.last_materialized_at else "never"
        lines.append(f"{asset.asset_key:<42} {when:<17} {asset.freshness:<9}")
        for check in asset.checks:
            mark = {"passed": "ok", "failed": "FAILED"}.get(check.status, check.status)
            severity = f" [{check.severity}]" if check.status == "failed" else ""
            lines.append(f"    {'*' if check.blocking else ' '} {check.name:<38} {mark}{severity}")
    lines.append("")
    lines.append(f"Open alerts: {len(report.open_alerts)}")
    for alert in report.open_alerts:
        lines.append(f"  #{alert['alert_id']} {alert['severity']} {alert['kind']}: {alert['message'][:120]}")
        if alert.get("delivered_at") is None and alert.get("delivery_error"):
            retry = alert.get("next_delivery_at")
            state = f"next try {retry.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if retry else "given up"
            lines.append(
                f"      not delivered after {alert.get('delivery_attempts', 0)} attempt(s):"
                f" {alert['delivery_error'][:100]} ({state})"
            )
    lines.append("")
    if report.failures:
        lines.append("FAILING:")
        lines.extend(f"  - {failure}" for failure in report.failures)
    if report.warnings:
        lines.append("Warnings:")
        lines.extend(f"  - {warning}" for warning in report.warnings)
    if not report.failures and not report.warnings:
        lines.append("All assets fresh, all checks passing, no open alerts.")
    lines.append("(* = blocking check)")
    return "\n".join(lines)
