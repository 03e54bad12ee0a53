"""``retail-platform bench --scenario day`` (``retail_platform/bench/incremental.py``): the split of the
generated lines into a history and the held-out days, and one small run of the scenario end to end. The
benchmark prints times; nothing here asserts one."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from retail_platform.bench.incremental import run_day_scenario, split_held_out_days
from retail_platform.sample_data import write_sample


def _rows(path: Path) -> list[tuple[str, ...]]:
    with path.open(newline="", encoding="utf-8") as stream:
        return [tuple(row) for row in csv.reader(stream)][1:]


def test_the_split_keeps_every_line_once_and_holds_out_the_last_days(tmp_path: Path):
    source = tmp_path / "sample.csv"
    write_sample(source, 3000, seed=5, days=20)
    history, days = split_held_out_days(source, tmp_path, held_out=2)

    lines = _rows(source)
    held = [_rows(day) for day in days]
    assert Counter(_rows(history)) + sum((Counter(day) for day in held), Counter()) == Counter(lines)
    every_day = sorted({line[4][:10] for line in lines})
    assert [day.name for day in days] == [f"day_{d}.csv" for d in every_day[-2:]]
    for day, rows in zip(every_day[-2:], held, strict=True):
        assert rows and {row[4][:10] for row in rows} == {day}
    assert max(row[4] for row in _rows(history)) < every_day[-2]


def test_the_day_scenario_runs_end_to_end_on_a_small_warehouse(server_url: str, tmp_path: Path):
    source = tmp_path / "sample.csv"
    written = write_sample(source, 2000, seed=7, days=30)
    messages: list[str] = []
    summary = run_day_scenario(server_url, source, tmp_path, repeat=1, progress=messages.append)

    assert summary["all_ok"] is True, messages
    assert summary["warehouse_lines"] == written
    [day_lines] = summary["day_lines"]
    assert 0 < day_lines == len(_rows(tmp_path / sorted(p.name for p in tmp_path.glob("day_*.csv"))[0]))
    assert {"clean__order_lines", "monthly_marts", "sales_marts"} <= set(summary["refresh_steps_median"])
    assert summary["refresh_s_median"] > 0 and summary["full_downstream_s"] > 0
