"""What a run's loads add up to: totals over the files and the table shown in the UI and on the console.

Works on anything with the ledger's counters (``LoadResult``s, or ``raw.file_loads`` rows)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

COUNTERS = ("lines_read", "lines_loaded", "lines_already_present", "lines_rejected")
NOT_LOADED = ("rejected", "failed")


def run_totals(loads: Sequence[Any]) -> dict[str, int]:
    """Files seen and rejected, and each line counter summed over the files."""
    totals = {
        "files_seen": len(loads),
        "files_rejected": sum(load.status in NOT_LOADED for load in loads),
    }
    totals.update({counter: sum(getattr(load, counter) for load in loads) for counter in COUNTERS})
    return totals


NOTE_CHARS = 300  # a note is the reason of a rejection or the first rejected line: enough to act on


def files_markdown(loads: Sequence[Any]) -> str:
    """One row per file, for the asset's metadata in the UI, with the file's note (why it was rejected, its
    first rejected line naming row and column, skipped sheets) where it has one."""
    if not loads:
        return "_no files waiting_"
    header = [
        "| file | status | read | loaded | already present | rejected | note |",
        "|---|---|---|---|---|---|---|",
    ]
    rows = [
        f"| {_cell(load.file_name)} | {load.status} | "
        + " | ".join(f"{getattr(load, counter):,}" for counter in COUNTERS)
        + f" | {_cell(getattr(load, 'error', None) or '', NOTE_CHARS)} |"
        for load in loads
    ]
    return "\n".join(header + rows)


def _cell(value: str, limit: int | None = None) -> str:
    """Text safe inside a Markdown table cell (a hostile file name may hold pipes or line breaks)."""
    text = value if limit is None or len(value) <= limit else value[: limit - 1] + "…"
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")
