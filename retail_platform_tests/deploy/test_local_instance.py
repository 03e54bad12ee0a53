"""Local runs (`retail-platform run` / `ui`) keep their own instance, never the deployed dagster.yaml."""

from __future__ import annotations

from pathlib import Path

import yaml
from dagster._core.instance.config import dagster_instance_config

from retail_platform.cli import LOCAL_INSTANCE_CONFIG, _write_local_instance_config
from retail_platform_tests.deploy import support


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
