"""``retail-platform bench`` runs end to end and computes what it promises. A smoke run on a tiny sample: the
benchmark measures, it does not assert times, and neither does this test."""

import json
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from retail_platform_tests.processes import clean_env

KEYS = ("rows", "copy_s", "load_s", "load_ratio", "redrop_s", "redrop_ratio", "graph_s", "peak_rss_mb")


def _bench_json(server_url: str, tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess:
    """``retail-platform bench ... --json`` as a new user runs it, on the session's server (scratch databases
    are made on it); it must succeed."""
    env = clean_env({"RETAIL_WAREHOUSE_URL": server_url})
    command = [
        "bench",
        *arguments,
        "--json",
        "--home",
        str(tmp_path / "home"),
        "--workdir",
        str(tmp_path / "work"),
    ]
    completed = subprocess.run(
        [sys.executable, "-m", "retail_platform.cli", *command],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return completed


def _table(summary_json: str) -> subprocess.CompletedProcess:
    """The printed table of a JSON summary, in a fresh interpreter; it must succeed."""
    table = subprocess.run(
        [
            sys.executable,
            "-c",
            "from retail_platform.bench import format_table; import json, sys;"
            " print(format_table(json.load(sys.stdin)))",
        ],
        input=summary_json,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert table.returncode == 0, table.stderr
    return table


def test_bench_smoke_run_prints_the_measurements_as_json(server_url: str, tmp_path: Path) -> None:
    completed = _bench_json(server_url, tmp_path, "--rows", "3000", "--repeat", "1")
    summary = json.loads(completed.stdout)

    for key in KEYS:
        assert key in summary, key
    assert summary["rows"] == 3000 and summary["repeat"] == 1 and summary["all_ok"] is True
    for key in ("copy_s", "load_s", "redrop_s", "graph_s", "peak_rss_mb"):
        assert isinstance(summary[key], (int, float)) and summary[key] > 0, key
    assert summary["load_ratio"] == pytest.approx(summary["load_s"] / summary["copy_s"], abs=0.01)
    assert summary["redrop_ratio"] == pytest.approx(summary["redrop_s"] / summary["copy_s"], abs=0.01)
    # every downstream asset has its own time, and the whole graph includes the load
    assert {"raw_transactions", "clean__order_lines", "sales_marts", "marts__rfm_scores"} <= set(
        summary["assets_s"]
    )
    assert any(step.startswith("charts__") for step in summary["assets_s"])
    assert summary["checks"] and summary["checks_s"] > 0
    # each step's peak memory, sampled while it ran: at least the interpreter with Dagster loaded
    assert set(summary["step_peak_mb"]) <= set(summary["assets_s"]) | set(summary["checks"])
    assert summary["step_peak_mb"]["clean__order_lines"] > 50
    [run] = summary["runs"]
    assert run["load_s"] == pytest.approx(summary["load_s"], abs=0.001)

    # the scratch databases are gone, the warehouse's own database was never touched
    with psycopg.connect(server_url, autocommit=True) as conn:
        left = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'retail_bench_%'").fetchall()
    assert left == []

    # and the table says the same
    table = _table(completed.stdout)
    assert "x COPY" in table.stdout and "(b) platform load" in table.stdout


def test_the_load_scenario_measures_the_load_alone_in_every_repeat(server_url: str, tmp_path: Path) -> None:
    completed = _bench_json(server_url, tmp_path, "--scenario", "load", "--rows", "2000", "--repeat", "2")
    summary = json.loads(completed.stdout)

    assert summary["repeat"] == 2 and summary["all_ok"] is True
    assert summary["graph_s"] is None and summary["assets_s"] == {} and summary["checks"] == {}
    runs = summary["runs"]
    assert len(runs) == 2 and all(run["graph_s"] is None and run["load_s"] > 0 for run in runs)
    # each repeat's ratio is its own load over its own COPY; the summary's is the ratio of the medians
    assert summary["load_ratios"] == [pytest.approx(run["load_s"] / run["copy_s"], rel=0.05) for run in runs]

    table = _table(completed.stdout)
    assert "(b) / (a) in each repeat" in table.stdout and "not run (--scenario load)" in table.stdout
