"""The landing folder: which files are ready, loading them in order, and filing them away afterwards.

Loaded (and duplicate) files move to ``archive/``; rejected files move to ``rejected/`` with a readable
``<name>.error.txt`` report beside them. Names are never overwritten: a clash gets the load id as a prefix.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from retail_platform.ingestion.loader import DEFAULT_MAX_REJECTED_SHARE, LoadResult, Progress, load_file
from retail_platform.ingestion.readiness import is_temporary
from retail_platform.settings import PlausibilitySettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FailedLoad:
    """A file whose load raised; it is still in the landing folder."""

    file_name: str
    error: str


def ready_files(landing: Path) -> list[Path]:
    """Files waiting in ``landing``, oldest first; hidden and in-progress names are left alone."""
    if not landing.is_dir():
        return []
    candidates = [path for path in landing.iterdir() if path.is_file() and not is_temporary(path.name)]
    return sorted(candidates, key=lambda path: (path.stat().st_mtime, path.name))


def _free_target(folder: Path, name: str, load_id: int | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if target.exists():
        target = folder / f"{load_id or 'x'}__{name}"
    return target


def file_away(path: Path, result: LoadResult, archive: Path, rejected: Path) -> Path:
    """Move a processed file out of the landing folder; rejected files get an error report beside them."""
    if result.ok:
        target = _free_target(archive, path.name, result.load_id)
        shutil.move(path, target)
        return target
    target = _free_target(rejected, path.name, result.load_id)
    shutil.move(path, target)
    target.with_name(target.name + ".error.txt").write_text(
        rejection_report(result, target), encoding="utf-8"
    )
    return target


def rejection_report(result: LoadResult, where: Path) -> str:
    """A report an operator can act on without opening the database."""
    lines = [
        f"File:     {result.file_name}",
        f"Moved to: {where}",
        f"Status:   {result.status} (load id {result.load_id} in raw.file_loads)",
        f"SHA-256:  {result.sha256}",
        f"Size:     {result.size_bytes:,} bytes",
        f"Reason:   {result.error}",
        f"Lines:    read {result.lines_read:,}, loaded {result.lines_loaded:,}, "
        f"already present {result.lines_already_present:,}, rejected {result.lines_rejected:,}",
        "",
        "Nothing from this file was loaded. Fix the file and drop it into the landing folder again.",
    ]
    if result.rejected_samples:
        lines += ["", "First invalid lines (all of them are in raw.rejected_lines):"]
        for sample in result.rejected_samples:
            where_in_file = (
                f"sheet {sample['source_export']!r} " if sample["source_export"] != result.file_name else ""
            )
            lines.append(f"  {where_in_file}row {sample['source_row']}: {sample['reason']}")
            lines.append(f"      {sample['raw_text'][:200]}")
    lines += [
        "",
        "As JSON:",
        json.dumps(
            {k: v for k, v in result.as_dict().items() if k != "rejected_samples"}, default=str, indent=2
        ),
    ]
    return "\n".join(lines) + "\n"


def load_landing(
    engine: Engine,
    landing: Path,
    archive: Path,
    rejected: Path,
    *,
    files: Iterable[Path] | None = None,
    run_id: str | None = None,
    max_rejected_share: float = DEFAULT_MAX_REJECTED_SHARE,
    progress: Progress | None = None,
    failures: list[FailedLoad] | None = None,
    plausibility: PlausibilitySettings | None = None,
) -> list[LoadResult]:
    """Load every ready file (or the given ones) in order, filing each away as soon as it is committed.

    With ``failures`` given, a file whose load raises (a warehouse or infrastructure error: its transaction
    is rolled back and the file stays in the landing folder for a retry) is recorded there and the next file
    is loaded, so that one failing file of a batch does not hold back the others; without, the error
    propagates."""
    results = []
    for path in list(files) if files is not None else ready_files(landing):
        try:
            result = load_file(
                engine,
                path,
                run_id=run_id,
                max_rejected_share=max_rejected_share,
                progress=progress,
                plausibility=plausibility,
            )
        except Exception as error:
            if failures is None:
                raise
            log.exception("Loading %s failed; it stays in the landing folder", path.name)
            failures.append(FailedLoad(path.name, f"{type(error).__name__}: {error}"))
            continue
        file_away(path, result, archive, rejected)
        results.append(result)
    return results
