"""analytics.chart_pool: charts drawn by forked workers are the same pictures as drawn here, a failing plot
fails only its own chart, and without fork (or with a worker that dies) every chart is still drawn here."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from retail_platform.analytics import chart_pool, charts
from retail_platform.analytics.chart_pool import ChartTask, render_charts
from retail_platform_tests.analytics.test_charts import make_kpis


def _broken(_frame: pd.DataFrame, _path: Path) -> Path:
    raise ValueError("no picture for this one")


def _dies(_frame: pd.DataFrame, path: Path) -> Path:
    if os.getpid() != PARENT:
        os._exit(3)  # a worker killed mid-chart (out of memory, a signal)
    return charts.plot_monthly_net_sales(_frame, path)


PARENT = os.getpid()


def _tasks(folder: Path, *extra: tuple[str, object]) -> list[ChartTask]:
    kpis = make_kpis()
    plots = [("monthly_net_sales", charts.plot_monthly_net_sales), ("orders", charts.plot_orders), *extra]
    return [ChartTask(name, plot, (kpis,), folder / f"{name}.png") for name, plot in plots]


def test_workers_draw_the_same_pictures_as_this_process(tmp_path):
    (tmp_path / "pool").mkdir()
    (tmp_path / "here").mkdir()
    drawn = dict((task.name, outcome) for task, outcome in render_charts(_tasks(tmp_path / "pool")))
    for task in _tasks(tmp_path / "here"):
        task.draw()
        assert drawn[task.name] == tmp_path / "pool" / f"{task.name}.png"
        assert drawn[task.name].read_bytes() == task.path.read_bytes()


def test_a_failing_plot_fails_only_its_chart(tmp_path):
    outcomes = {task.name: outcome for task, outcome in render_charts(_tasks(tmp_path, ("broken", _broken)))}
    assert isinstance(outcomes.pop("broken"), ValueError)
    assert all(isinstance(path, Path) and path.exists() for path in outcomes.values())


@pytest.mark.parametrize("lazy", [False, True], ids=["list", "generator"])
@pytest.mark.parametrize("cause", ["no_fork", "worker_dies"])
def test_every_chart_is_drawn_here_when_workers_cannot_draw(tmp_path, monkeypatch, cause, lazy):
    if cause == "no_fork":
        monkeypatch.setattr(chart_pool.multiprocessing, "get_all_start_methods", lambda: ["spawn"])
        extra = ("sales_growth", charts.plot_sales_growth)
    else:
        extra = ("dies", _dies)
    tasks = _tasks(tmp_path, extra, ("sales_growth_2", charts.plot_sales_growth))
    drawn = render_charts(iter(tasks), count=len(tasks)) if lazy else render_charts(tasks)
    outcomes = {task.name: outcome for task, outcome in drawn}
    assert sorted(outcomes) == sorted(["monthly_net_sales", "orders", extra[0], "sales_growth_2"])
    assert all(isinstance(path, Path) and path.exists() for path in outcomes.values())


def test_tasks_from_a_generator_are_each_asked_for_and_drawn_once(tmp_path):
    """The charts asset hands its tasks out as a generator that reads each mart when its first chart is due."""
    asked: list[str] = []

    def lazy():
        for task in _tasks(tmp_path, ("sales_growth", charts.plot_sales_growth)):
            asked.append(task.name)
            yield task

    outcomes = {task.name: outcome for task, outcome in render_charts(lazy(), count=3)}
    assert asked == ["monthly_net_sales", "orders", "sales_growth"]
    assert sorted(outcomes) == sorted(asked)
    assert all(isinstance(path, Path) and path.exists() for path in outcomes.values())
