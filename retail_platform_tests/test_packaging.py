"""A non-editable install works as well as the checkout: the wheel carries the SQL files, and
``retail-platform run`` from the installed wheel, in a folder outside the checkout, builds every asset."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from retail_platform.warehouse.embedded import stop_embedded
from retail_platform_tests.processes import clean_env

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built from the checkout the way ``pip install .`` builds it."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), "."],
        cwd=PROJECT,
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("retail_platform-*.whl")
    return built


def test_the_wheel_carries_every_sql_file(wheel: Path):
    with zipfile.ZipFile(wheel) as archive:
        packaged = {
            name.removeprefix("retail_platform/sql/") for name in archive.namelist() if "/sql/" in name
        }
    in_checkout = {str(path.relative_to(PROJECT / "sql")) for path in (PROJECT / "sql").rglob("*.sql")}
    assert in_checkout, "the checkout has no SQL files"
    assert packaged == in_checkout


def test_the_wheel_carries_the_workspace_file_ui_serves(wheel: Path):
    """``retail-platform ui`` runs ``dagster dev -w`` on the packaged copy of the top-level workspace.yaml."""
    import yaml

    with zipfile.ZipFile(wheel) as archive:
        packaged = archive.read("retail_platform/workspace.yaml").decode()
    assert packaged == (PROJECT / "workspace.yaml").read_text(encoding="utf-8")
    (location,) = yaml.safe_load(packaged)["load_from"]
    assert location["python_module"] == {
        "module_name": "retail_platform.definitions",
        "location_name": "retail_platform",
    }


def test_run_from_the_installed_wheel_outside_the_checkout(wheel: Path, tmp_path: Path):
    # The wheel goes into a folder of its own, placed ahead of the checkout on the path, with this
    # environment's dependencies; the subprocess proves which copy it imported.
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    env = clean_env({"PYTHONPATH": str(target)})
    where = subprocess.run(
        [sys.executable, "-c", "import retail_platform; print(retail_platform.__file__)"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.strip().startswith(str(target)), where.stdout
    try:
        completed = subprocess.run(
            [str(target / "bin" / "retail-platform"), "run", "--sample-rows", "2000"],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert completed.returncode == 0, completed.stdout + completed.stderr
        assert "SUCCEEDED" in completed.stdout
        assert (workdir / ".retail_platform" / "charts").is_dir()
    finally:
        stop_embedded(workdir / ".retail_platform" / "pgdata")
