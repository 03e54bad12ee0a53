"""The instances outside the deployment: `retail-platform run` / `ui` write their own, and Dagster's own commands
in a checkout (`dagster dev`, `dg dev`, `dg check defs`, ...) read the top-level dagster.yaml, which needs no
environment. Neither is the deployed docker/dagster.yaml."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from dagster._core.instance.config import dagster_instance_config

from retail_platform.cli.environment import LOCAL_INSTANCE_CONFIG
from retail_platform.cli.environment import write_local_instance_config as _write_local_instance_config
from retail_platform_tests.deploy import support
from retail_platform_tests.processes import BIN

# What a fresh clone holds: the tracked tree, without local state, secrets or the virtualenv (linked back in).
NOT_IN_A_CLONE = (
    ".git",
    ".venv",
    ".retail_platform",
    ".env",
    "landing",
    "test-artifacts",
    ".tmp_dagster_home_*",
)
NOT_IN_A_CLONE += ("__pycache__", "*.egg-info", ".pytest_cache", ".ruff_cache")


def test_the_local_instance_is_valid_and_follows_the_deployed_concurrency_rules(tmp_path: Path):
    _write_local_instance_config(tmp_path)
    config, _ = dagster_instance_config(str(tmp_path))
    local = yaml.safe_load((tmp_path / "dagster.yaml").read_text())
    deployed = support.load_yaml(support.DAGSTER_YAML)
    assert config["telemetry"] == {"enabled": False}
    # local: SQLite under $RETAIL_HOME/dagster and runs as local processes, no PostgreSQL or Docker needed
    assert not {"storage", "run_launcher", "run_coordinator"} & set(local)
    assert support.env_references(local) == set()
    # the same rule for the warehouse load as deployed
    assert local["concurrency"]["pools"] == {
        key: deployed["concurrency"]["pools"][key] for key in ("granularity", "default_limit")
    }


def test_an_older_generated_file_is_refreshed_and_a_hand_written_one_kept(tmp_path: Path):
    legacy, edited, current = tmp_path / "legacy", tmp_path / "edited", tmp_path / "current"
    for folder in (legacy, edited, current):
        folder.mkdir()
    (legacy / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    (edited / "dagster.yaml").write_text("telemetry:\n  enabled: true\n")
    (current / "dagster.yaml").write_text(
        LOCAL_INSTANCE_CONFIG.replace("max_concurrent_runs: 2", "max_concurrent_runs: 9")
    )
    for folder in (legacy, edited, current):
        _write_local_instance_config(folder)
    assert (legacy / "dagster.yaml").read_text() == LOCAL_INSTANCE_CONFIG
    assert (current / "dagster.yaml").read_text() == LOCAL_INSTANCE_CONFIG
    assert (edited / "dagster.yaml").read_text() == "telemetry:\n  enabled: true\n"


def test_the_checkout_instance_needs_no_environment_and_keeps_the_pool_rule():
    local = support.load_yaml(support.LOCAL_DAGSTER_YAML)
    deployed = support.load_yaml(support.DAGSTER_YAML)
    assert support.env_references(local) == set(), "dagster dev in a checkout must start with nothing set"
    assert not {"storage", "run_launcher", "run_storage", "event_log_storage"} & set(local)
    assert local["concurrency"]["pools"] == deployed["concurrency"]["pools"]
    assert local["telemetry"] == {"enabled": False}


@pytest.fixture(scope="module")
def fresh_clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project as a clone has it, with the project's virtualenv (as the README creates it)."""
    clone = tmp_path_factory.mktemp("clone") / "retail-platform"
    shutil.copytree(support.ROOT, clone, ignore=shutil.ignore_patterns(*NOT_IN_A_CLONE), symlinks=True)
    (clone / ".venv").symlink_to(BIN.parent, target_is_directory=True)
    return clone


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["dg", "check", "defs"], ["All definitions loaded successfully"]),
        (["dg", "list", "defs"], ["raw/transactions", "marts/monthly_kpis", "full_refresh_job"]),
        (["dagster", "definitions", "validate"], ["Validation successful for code location retail_platform"]),
    ],
    ids=lambda value: "-".join(value) if value and value[0] in ("dg", "dagster") else None,
)
def test_dagsters_own_commands_work_in_a_fresh_clone_with_nothing_set(
    fresh_clone: Path, tmp_path: Path, command: list[str], expected: list[str]
):
    """No DAGSTER_HOME, no DAGSTER_* or RETAIL_* variable: the commands a Dagster engineer types first."""
    env = {
        "PATH": f"{BIN}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "COLUMNS": "250",  # dg's tables: keys not truncated
    }
    completed = subprocess.run(
        [str(BIN / command[0]), *command[1:]],
        cwd=fresh_clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    for text in expected:
        assert text in output, f"{text!r} not in the output of {' '.join(command)}:\n{output}"
    assert "DAGSTER_POSTGRES" not in output
    # the clone's folder is not named after the location: the location keeps its name, and no warning says so
    assert "does not match the name" not in output, output
