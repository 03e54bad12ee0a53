"""Checks on the chart assets: the PNG exists and is a valid image (not an empty or truncated file)."""

import struct
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from retail_platform.defs.alerting import AlertingResource
from retail_platform.defs.charts import assets as chart_assets
from retail_platform.defs.checks.framework import report
from retail_platform.defs.resources import RetailPathsResource, WarehouseResource

PNG_CHECK = "png_valid"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_problem(path: Path) -> str | None:
    """Why ``path`` is not a usable PNG, or None when it is one (signature, IHDR size, IEND trailer)."""
    if not path.exists():
        return f"{path} does not exist"
    data = path.read_bytes()
    if len(data) < 33 or data[:8] != PNG_SIGNATURE or data[12:16] != b"IHDR":
        return f"{path} is not a PNG file"
    width, height = struct.unpack(">II", data[16:24])
    if not (100 <= width <= 10_000 and 100 <= height <= 10_000):
        return f"{path} has an implausible size {width}x{height}"
    if not data.rstrip(b"\x00").endswith(b"IEND\xaeB`\x82"):
        return f"{path} is truncated (no IEND chunk)"
    return None


def png_valid_checks(name: str, charts: list[dg.AssetKey]) -> dg.AssetChecksDefinition:
    """A ``png_valid`` check on each chart of ``charts`` (its ``charts/<chart>.png``), as one step
    (``framework``)."""
    description = "The chart's PNG file exists and is a valid image."

    @dg.multi_asset_check(
        name=name,
        specs=[dg.AssetCheckSpec(PNG_CHECK, asset=chart, description=description) for chart in charts],
        can_subset=True,
    )
    def _checks(
        context: dg.AssetCheckExecutionContext,
        warehouse: WarehouseResource,
        alerting: AlertingResource,
        retail_paths: RetailPathsResource,
    ) -> Iterator[dg.AssetCheckResult]:
        for chart in charts:
            if dg.AssetCheckKey(chart, PNG_CHECK) not in context.selected_asset_check_keys:
                continue
            path = retail_paths.paths().charts / f"{chart.path[-1]}.png"
            problem = png_problem(path)
            result = dg.AssetCheckResult(
                asset_key=chart,
                check_name=PNG_CHECK,
                passed=problem is None,
                metadata={"path": dg.MetadataValue.path(str(path)), "details": problem or "valid PNG"},
            )
            yield report(context, warehouse, alerting, result)

    return _checks


chart_png_checks = png_valid_checks("chart_png_checks", [chart.key for chart in chart_assets.CHARTS])
