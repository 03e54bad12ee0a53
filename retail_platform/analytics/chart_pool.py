"""Rendering several charts at once, one worker process per core.

A chart is pure Python and C++ drawing (text layout above all) that holds the GIL: threads would take turns,
so the charts of one refresh are drawn by forked worker processes instead, which start in milliseconds with
matplotlib and the data already in memory. Each task is a plotting function of ``analytics.charts``, its
arguments (the data, read beforehand) and the PNG's path. Where processes cannot be forked (or a worker
dies), the remaining charts are drawn in this process, one after another: the same pictures, only slower.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ChartTask:
    """One PNG to draw: ``plot(*args, path)``."""

    name: str
    plot: Callable[..., Path]
    args: tuple[Any, ...]
    path: Path

    def draw(self) -> Path:
        return self.plot(*self.args, self.path)


def _draw(task: ChartTask) -> Path:
    return task.draw()


def _workers(tasks: int) -> int:
    return max(1, min(tasks, os.cpu_count() or 1))


def render_charts(
    tasks: Iterable[ChartTask], count: int | None = None
) -> Iterator[tuple[ChartTask, Path | Exception]]:
    """Each task with its PNG's path, or the exception its plot raised, as each finishes. ``tasks`` may be
    lazy (a generator that reads each chart's data when asked for its task): each task goes to a worker as
    soon as it is made, so the later charts' data is read while the first ones are drawn. ``count``: how
    many tasks there are, when ``tasks`` has no length."""
    if count is None:
        tasks = list(tasks)
        count = len(tasks)
    pending = iter(tasks)
    if count < 2 or _workers(count) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        yield from _in_process(pending)
        return
    submitted: list[ChartTask] = []
    done: set[str] = set()
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(_workers(count), mp_context=context) as pool:
            futures: dict[Future, ChartTask] = {}
            for task in pending:
                futures[pool.submit(_draw, task)] = task
                submitted.append(task)
            for future in as_completed(futures):
                task = futures[future]
                try:
                    outcome: Path | Exception = future.result()
                except BrokenProcessPool:
                    raise
                except Exception as error:  # the plot's own error, reported for its chart only
                    outcome = error
                done.add(task.name)
                yield task, outcome
    except (BrokenProcessPool, OSError):  # a worker died or could not start: draw the rest here
        yield from _in_process([task for task in submitted if task.name not in done])
        yield from _in_process(pending)


def _in_process(tasks: Iterable[ChartTask]) -> Iterator[tuple[ChartTask, Path | Exception]]:
    for task in tasks:
        try:
            yield task, task.draw()
        except Exception as error:
            yield task, error
