"""The benchmark's summary: medians over the repeats, ratios to the bare COPY, and the printed table."""

from __future__ import annotations

import statistics

from retail_platform.bench.measure import Repeat


def summarize(
    rows: int, repeats: list[Repeat], generate_s: float, warehouse: str, graph: bool = True
) -> dict:
    """Medians and ratios over ``repeats``; without ``graph`` (the ``load`` scenario) ``graph_s`` is None."""

    def median(values: list[float]) -> float:
        return round(statistics.median(values), 3)

    copy_s = median([r.copy_s for r in repeats])
    load_s = median([r.load_s for r in repeats])
    redrop_s = median([r.redrop_s for r in repeats])
    graph_s = median([r.graph_s for r in repeats]) if graph else None
    # the load scenario has no steps: the definitions (seconds to import) are not needed to sort them
    asset_steps = _asset_step_keys() if graph else set()
    steps: dict[str, list[float]] = {}
    for repeat in repeats:
        for step, seconds in repeat.steps.items():
            steps.setdefault(step, []).append(seconds)
    assets = {step: median(times) for step, times in steps.items() if step in asset_steps}
    checks = {step: median(times) for step, times in steps.items() if step not in asset_steps}
    server_peaks = [r.server_peak_rss_mb for r in repeats if r.server_peak_rss_mb is not None]
    step_peaks: dict[str, float] = {}
    for repeat in repeats:
        for step, peak in repeat.step_peak_mb.items():
            step_peaks[step] = round(max(step_peaks.get(step, 0.0), peak), 1)
    return {
        "rows": rows,
        "repeat": len(repeats),
        "warehouse": warehouse,
        "copy_s": copy_s,
        "load_s": load_s,
        "load_ratio": round(load_s / copy_s, 2) if copy_s else None,
        "redrop_s": redrop_s,
        "redrop_ratio": round(redrop_s / copy_s, 2) if copy_s else None,
        "graph_s": graph_s,
        "graph_ratio": round(graph_s / copy_s, 2) if copy_s and graph_s is not None else None,
        # each repeat's own ratio: a single repeat moves with the machine's load, the median much less
        "load_ratios": [round(r.load_s / r.copy_s, 2) if r.copy_s else None for r in repeats],
        "peak_rss_mb": round(max(r.peak_rss_mb for r in repeats), 1),
        "server_peak_rss_mb": round(max(server_peaks), 1) if server_peaks else None,
        "assets_s": dict(sorted(assets.items(), key=lambda item: -item[1])),
        "step_peak_mb": dict(sorted(step_peaks.items(), key=lambda item: -item[1])),
        "checks_s": round(sum(checks.values()), 3),
        "checks": dict(sorted(checks.items(), key=lambda item: -item[1])),
        "generate_s": round(generate_s, 3),
        "all_ok": all(
            r.graph_ok and r.load_status == "loaded" and r.redrop_status == "duplicate" for r in repeats
        ),
        "runs": [
            {
                "copy_s": round(r.copy_s, 4),
                "load_s": round(r.load_s, 4),
                "redrop_s": round(r.redrop_s, 3),
                "graph_s": round(r.graph_s, 3) if graph else None,
                "peak_rss_mb": round(r.peak_rss_mb, 1),
                "server_peak_rss_mb": None
                if r.server_peak_rss_mb is None
                else round(r.server_peak_rss_mb, 1),
            }
            for r in repeats
        ],
    }


def _asset_step_keys() -> set[str]:
    """The steps that materialize assets (the others run checks only)."""
    from retail_platform.definitions import defs

    return {
        assets_def.op.name
        for assets_def in defs.resolve_asset_graph().assets_defs
        if assets_def.is_executable and assets_def.keys
    }


def format_table(summary: dict) -> str:
    copy_s = summary["copy_s"] or float("nan")

    peaks = summary.get("step_peak_mb") or {}

    def line(label: str, seconds: float | None, note: str = "") -> str:
        if seconds is None:
            return f"  {label:<44} {'-':>9}"
        return f"  {label:<44} {seconds:9.2f} s  {seconds / copy_s:7.2f} x COPY  {note}".rstrip()

    def step_line(step: str, seconds: float) -> str:
        peak = peaks.get(step)
        return line(f"    {step}", seconds, f"peak {peak:,.0f} MiB" if peak is not None else "")

    out = [
        "=" * 88,
        f"retail-platform bench: {summary['rows']:,} lines, {summary['repeat']} repeat(s), medians; "
        f"warehouse: {summary['warehouse']}",
        "-" * 88,
        line("(a) bare COPY into an unlogged table", summary["copy_s"], "(reference)"),
        line("(b) platform load (empty warehouse)", summary["load_s"]),
        line("(c) re-drop of the same file, other name", summary["redrop_s"]),
    ]
    ratios = [ratio for ratio in summary.get("load_ratios") or [] if ratio is not None]
    if len(ratios) > 1:
        out.append(
            f"      (b) / (a) in each repeat: {', '.join(f'{ratio:.2f}' for ratio in ratios)} "
            f"(from {min(ratios):.2f} to {max(ratios):.2f})"
        )
    if summary["graph_s"] is None:
        out.append("  (d) whole graph                                 not run (--scenario load)")
    else:
        out += [
            line("(d) whole graph (load, marts, charts, checks)", summary["graph_s"]),
            "      steps of the graph (and the work process's peak resident memory during each):",
        ]
        for step, seconds in summary["assets_s"].items():
            out.append(step_line(step, seconds))
        out.append(line(f"    {len(summary['checks'])} check steps, in total", summary["checks_s"]))
    server = summary["server_peak_rss_mb"]
    out += [
        "-" * 88,
        f"  (e) peak resident memory: the process doing the work {summary['peak_rss_mb']:,.0f} MiB; "
        + (
            f"database server {server:,.0f} MiB (its largest process)"
            if server is not None
            else "database server not measurable (not on this machine)"
        ),
        f"  sample generation (not timed above): {summary['generate_s']:.1f} s",
        "=" * 88,
    ]
    return "\n".join(out)
