"""The product's two promises from the command line: ``retail-platform run`` works on the embedded default
with nothing configured, and it fails loudly (non-zero) when a file is rejected."""

import subprocess
import sys
from pathlib import Path

import psycopg

from retail_platform.settings import retail_paths
from retail_platform.warehouse.embedded import start_embedded
from retail_platform_tests.processes import run_cli


def test_run_on_a_fresh_home_uses_the_embedded_server_and_a_sample_drop(home: Path):
    completed = run_cli("run", "--sample-rows", "3000", home=home)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert "wrote a sample drop of 3,000 lines" in completed.stdout
    assert "SUCCEEDED" in completed.stdout
    assert "read     3,000  loaded     3,000" in completed.stdout
    assert "Months covered:" in completed.stdout and "RFM segments:" in completed.stdout
    paths = retail_paths(home)
    assert (paths.pgdata / "PG_VERSION").exists()
    assert len(list(paths.charts.glob("*.png"))) >= 7
    assert (paths.archive / "sample_online_retail.csv").exists()
    # run stops the embedded server it started
    assert not (paths.pgdata / "postmaster.pid").exists()

    # A second run with an empty landing folder writes no new sample (data was loaded before) and loads nothing.
    again = run_cli("run", home=home)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "sample drop" not in again.stdout
    assert "Files this run: 0" in again.stdout


def test_run_exits_non_zero_and_reports_a_rejected_file(home: Path):
    landing = retail_paths(home).ensure().landing
    (landing / "orders.json").write_text('{"not": "a table"}')
    completed = run_cli("run", "--sample-rows", "2000", home=home)
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert "orders.json" in completed.stdout and "rejected" in completed.stdout
    assert "unsupported file type" in completed.stdout
    assert (home / "rejected" / "orders.json.error.txt").exists()


def test_run_on_an_external_server_by_url(home: Path, database_url: str):
    completed = run_cli(
        "run", "--sample-rows", "2000", home=home, extra_env={"RETAIL_WAREHOUSE_URL": database_url}
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert not (home / "pgdata" / "PG_VERSION").exists()
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM raw.transactions").fetchone()[0] == 2000


def test_generate_writes_the_requested_lines(tmp_path: Path):
    out = tmp_path / "drop.csv.gz"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "retail_platform.cli",
            "generate",
            "--rows",
            "1500",
            "--seed",
            "3",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    import pandas as pd

    frame = pd.read_csv(out)
    assert len(frame) == 1500
    assert list(frame.columns)[:2] == ["Invoice", "StockCode"]


def test_migrate_is_idempotent(home: Path):
    first = run_cli("migrate", home=home)
    second = run_cli("migrate", home=home)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert "applied 0 migration(s)" in second.stdout
    url = start_embedded(home / "pgdata")
    with psycopg.connect(url) as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM meta.schema_migrations ORDER BY 1")]
    assert versions == sorted(set(versions)) and len(versions) >= 4
