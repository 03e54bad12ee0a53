"""The deployment on a real Docker engine: the project's images built from docker/Dockerfile, `docker-compose up`
of docker-compose.yml, runs in their own containers started by the DockerRunLauncher.

What differs from a production host, and why (README "Deployment"): the managed-PostgreSQL override points at
the tests' PostgreSQL server on 127.0.0.1:5432 (databases and roles made by the compose init script, temporary
names), and the host-network override puts every container, run containers too, on the host's network, so all
traffic stays on 127.0.0.1 (the CI machine reaches no image registry, so there is no postgres image). Skips only
where no Docker engine can run; every other problem (no base image, a failed build) fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from retail_platform_tests.deploy import docker_engine as engine
from retail_platform_tests.deploy import support
from retail_platform_tests.deploy.browser import CHROMIUM, SCREENSHOTS, SKIP_REASON, walk_through_the_ui
from retail_platform_tests.deploy.conftest import (
    DAEMONS,
    WORKSPACE,
    Databases,
    Deployment,
    _http_ok,
    created_databases,
)
from retail_platform_tests.processes import free_port, wait_for

SAMPLE_ROWS = 3_000
DROP_ROWS = 500
TAG = "live-test"
PROJECT = "retail_platform_live_test"
LOGS = support.ARTIFACTS / "docker-logs"
STARTUP_TIMEOUT = 300
RUN_TIMEOUT = 600
OVERRIDES = ("docker/compose.managed-postgres.yml", "docker/compose.host-network.yml")
VOLUMES = ("retail_platform_home", "retail_platform_dagster_storage")
SENSOR_RUN_TAG = "dagster/sensor_name"


@dataclass
class DockerDeployment(Deployment):
    """The compose project: its command line, the landing folder on the host, the build figures."""

    compose: list[str] = field(default_factory=list)
    landing: Path = Path()
    dashboard_url: str = ""
    build_seconds: dict[str, float] = field(default_factory=dict)
    run_ids: list[str] = field(default_factory=list)

    def diagnose(self) -> str:
        logs = subprocess.run(
            [*self.compose, "logs", "--tail", "40"], capture_output=True, text=True, timeout=120
        )
        return logs.stdout[-12000:] + logs.stderr[-2000:]

    def service_container(self, service: str) -> dict:
        (container,) = engine.containers(
            f"label=com.docker.compose.project={PROJECT}", f"label=com.docker.compose.service={service}"
        )
        return engine.inspect(container)

    def run_container(self, run_id: str) -> dict:
        (container,) = engine.containers(f"label=dagster/run_id={run_id}")
        return engine.inspect(container)


def _compose_env(databases: Databases, landing: Path, ports: dict[str, int]) -> dict[str, str]:
    """The .env of this deployment: the managed server's databases, the host's ports, the images built here."""
    dagster, warehouse = make_url(databases.dagster_url), make_url(databases.warehouse_url)
    return {
        "POSTGRES_PASSWORD": "unused-with-a-managed-server",
        "DAGSTER_POSTGRES_HOST": dagster.host or "127.0.0.1",
        "DAGSTER_POSTGRES_PORT": str(dagster.port or 5432),
        "DAGSTER_POSTGRES_USER": databases.dagster_user,
        "DAGSTER_POSTGRES_PASSWORD": databases.password,
        "DAGSTER_POSTGRES_DB": databases.dagster_db,
        "RETAIL_WAREHOUSE_HOST": warehouse.host or "127.0.0.1",
        "RETAIL_WAREHOUSE_PORT": str(warehouse.port or 5432),
        "RETAIL_WAREHOUSE_USER": databases.warehouse_user,
        "RETAIL_WAREHOUSE_PASSWORD": databases.password,
        "RETAIL_WAREHOUSE_DB": databases.warehouse_db,
        "RETAIL_DASHBOARD_USER": databases.dashboard_user,
        "RETAIL_DASHBOARD_PASSWORD": databases.password,
        "RETAIL_IMAGE_TAG": TAG,
        "RETAIL_LANDING_HOST_DIR": str(landing),
        "DAGSTER_WEBSERVER_PORT": str(ports["webserver"]),
        "DAGSTER_CODE_SERVER_PORT": str(ports["code_server"]),
        "RETAIL_DASHBOARD_PORT": str(ports["dashboard"]),
        "RETAIL_UI_URL": f"http://127.0.0.1:{ports['webserver']}",
    }


def _has_dashboard_command(image: str) -> bool:
    probe = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", image, "retail-platform", "dashboard", "--help"],
        capture_output=True,
        timeout=120,
    )
    return probe.returncode == 0


def _remove_leftovers(compose: list[str]) -> None:
    """Containers and volumes of an earlier, interrupted run of this test (fixed names)."""
    subprocess.run([*compose, "down", "--volumes", "--remove-orphans"], capture_output=True, timeout=300)
    for container in engine.containers(f"ancestor=retail_platform_user_code:{TAG}"):
        subprocess.run(["docker", "rm", "-f", container], capture_output=True, timeout=120)
    subprocess.run(["docker", "volume", "rm", *VOLUMES], capture_output=True, timeout=120)


def _wait_until_up(deployment: DockerDeployment) -> None:
    def webserver_up() -> bool:
        return _http_ok(f"{deployment.webserver_url}/server_info")

    wait_for("the webserver container", webserver_up, STARTUP_TIMEOUT, 3, deployment.diagnose)

    def location_loaded() -> bool:
        (entry,) = deployment.graphql(WORKSPACE)["workspaceOrError"]["locationEntries"]
        return entry["loadStatus"] == "LOADED" and entry

    entry = wait_for("the code location", location_loaded, STARTUP_TIMEOUT, 3, deployment.diagnose)
    assert entry["locationOrLoadError"]["__typename"] == "RepositoryLocation", entry

    def daemons_healthy() -> bool:
        statuses = deployment.graphql(DAEMONS)["instance"]["daemonHealth"]["allDaemonStatuses"]
        return all(status["healthy"] for status in statuses if status["required"])

    wait_for("the daemon container", daemons_healthy, STARTUP_TIMEOUT, 3, deployment.diagnose)


@pytest.fixture(scope="module")
def docker_deployment(
    postgres_admin_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DockerDeployment]:
    from retail_platform.sample_data import write_sample

    shutil.rmtree(LOGS, ignore_errors=True)
    LOGS.mkdir(parents=True)
    dockerd = engine.start_engine(LOGS)
    compose_base = engine.compose_command()
    root = support.ROOT
    try:
        started = time.monotonic()
        base = engine.base_image(LOGS)
        wheels = engine.wheelhouse(root, LOGS)
        build_seconds = {"base image and wheels": time.monotonic() - started}
        targets = {
            "dagster": f"retail_platform_dagster:{TAG}",
            "user_code": f"retail_platform_user_code:{TAG}",
        }
        replaced = {image: engine.image_id(image) for image in targets.values()}
        for target, image in targets.items():
            build_seconds[target] = engine.build(root, target, image, base, wheels, LOGS)
        with created_databases(postgres_admin_url) as databases:
            folder = tmp_path_factory.mktemp("docker")
            landing = folder / "landing"
            landing.mkdir()
            write_sample(landing / "docker_drop.csv", SAMPLE_ROWS, seed=21)
            ports = {name: free_port() for name in ("webserver", "code_server", "dashboard")}
            env_file = folder / "compose.env"
            env_file.write_text(
                "".join(f"{k}={v}\n" for k, v in _compose_env(databases, landing, ports).items())
            )
            files = [arg for name in ("docker-compose.yml", *OVERRIDES) for arg in ("-f", str(root / name))]
            compose = [*compose_base, "--env-file", str(env_file), "-p", PROJECT, *files]
            deployment = DockerDeployment(
                databases,
                folder,
                folder,
                folder,
                {},
                webserver_url=f"http://127.0.0.1:{ports['webserver']}",
                compose=compose,
                landing=landing,
                build_seconds=build_seconds,
            )
            _remove_leftovers(compose)
            services = ["migrate", "user_code", "webserver", "daemon"]
            if _has_dashboard_command(f"retail_platform_user_code:{TAG}"):
                services.append("dashboard")
                deployment.dashboard_url = f"http://127.0.0.1:{ports['dashboard']}"
            clean_env = {
                k: v for k, v in os.environ.items() if not k.startswith(("RETAIL_", "DAGSTER_", "COMPOSE_"))
            }
            try:
                engine.run(
                    [*compose, "up", "-d", "--no-build", *services], LOGS / "compose.log", 900, env=clean_env
                )
                _wait_until_up(deployment)
                yield deployment
            finally:
                (LOGS / "services.log").write_text(deployment.diagnose())
                _remove_leftovers(compose)
                engine.remove_replaced_images(replaced)
    finally:
        if dockerd is not None:
            dockerd.stop()


@pytest.fixture(scope="module")
def docker_full_refresh(docker_deployment: DockerDeployment) -> dict:
    run_id = docker_deployment.launch("full_refresh_job")
    docker_deployment.run_ids.append(run_id)
    run = docker_deployment.wait_for_run(run_id, timeout=RUN_TIMEOUT)
    assert run["status"] == "SUCCESS", f"{run}\n{docker_deployment.run_failure_details(run_id)}"
    return run


def _in_container(image: str, code: str) -> str:
    completed = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", image, "python", "-c", code],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


def test_both_images_are_built_from_the_projects_dockerfile(docker_deployment: DockerDeployment):
    user_code, dagster = f"retail_platform_user_code:{TAG}", f"retail_platform_dagster:{TAG}"
    for image in (user_code, dagster):
        assert engine.image_exists(image), image
    # the project is installed as a wheel: its SQL comes from site-packages, no source tree in the image
    out = _in_container(
        user_code,
        "import importlib.metadata as m, pathlib, retail_platform;"
        "from retail_platform.warehouse.sql_files import read_sql;"
        "print(pathlib.Path(retail_platform.__file__).parent);"
        "print(m.distribution('retail-platform').read_text('direct_url.json'));"
        "print(len(read_sql('migrations/001_schemas.sql')) > 0)",
    )
    package, direct_url, sql_found = out.strip().splitlines()
    assert "/site-packages/retail_platform" in package
    assert "editable" not in direct_url, direct_url
    assert sql_found == "True"
    # the Dagster image has Dagster but not the platform's code
    assert "ModuleNotFoundError" in _in_container(
        dagster,
        "import dagster_docker, dagster_postgres\ntry:\n import retail_platform\nexcept ImportError as e: print(type(e).__name__)",
    )


def _docker_time(text: str) -> datetime:
    """Docker's RFC 3339 times carry nanoseconds (trailing zeros trimmed): cut to microseconds."""
    seconds, _, fraction = text.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{seconds}.{(fraction + '000000')[:6]}+00:00")


def test_the_migrate_service_ran_first(docker_deployment: DockerDeployment):
    migrate = docker_deployment.service_container("migrate")
    assert migrate["State"]["Status"] == "exited" and migrate["State"]["ExitCode"] == 0, migrate["State"]
    finished = _docker_time(migrate["State"]["FinishedAt"])
    for service in ("user_code", "webserver", "daemon"):
        started = docker_deployment.service_container(service)["State"]["StartedAt"]
        assert finished <= _docker_time(started), (service, migrate["State"], started)
    databases = docker_deployment.databases
    with psycopg.connect(databases.dagster_url) as conn:
        assert conn.execute("SELECT count(*) FROM alembic_version").fetchone()[0] == 1
    with psycopg.connect(databases.warehouse_url) as conn:
        assert conn.execute("SELECT count(*) FROM meta.schema_migrations").fetchone()[0] >= 4


LOCATION = """
{
  workspaceOrError {
    ... on Workspace {
      locationEntries { name displayMetadata { key value } locationOrLoadError { __typename
        ... on RepositoryLocation { repositories { name jobs { name } } } } }
    }
  }
}
"""


def test_the_webserver_lists_the_code_location_of_the_code_server_container(
    docker_deployment: DockerDeployment,
):
    (entry,) = docker_deployment.graphql(LOCATION)["workspaceOrError"]["locationEntries"]
    assert entry["name"] == "retail_platform"
    metadata = {item["key"]: item["value"] for item in entry["displayMetadata"]}
    (repository,) = entry["locationOrLoadError"]["repositories"]
    assert "full_refresh_job" in {job["name"] for job in repository["jobs"]}
    # served over gRPC by the user_code container: its port, its command
    user_code = docker_deployment.service_container("user_code")
    assert user_code["State"]["Health"]["Status"] == "healthy"
    assert user_code["Config"]["Image"] == f"retail_platform_user_code:{TAG}"
    assert (
        metadata["port"] == support.option(user_code["Config"]["Cmd"], "-p")
        and metadata["host"] == "127.0.0.1"
    )


def test_the_full_refresh_runs_in_its_own_container(
    docker_deployment: DockerDeployment, docker_full_refresh: dict
):
    run_id = docker_full_refresh["runId"]
    tags = {tag["key"]: tag["value"] for tag in docker_full_refresh["tags"]}
    container = docker_deployment.run_container(run_id)
    assert tags["docker/container_id"] == container["Id"]
    assert container["Config"]["Image"] == tags["dagster/image"] == f"retail_platform_user_code:{TAG}"
    assert container["State"]["ExitCode"] == 0 and container["HostConfig"]["NetworkMode"] == "host"
    assert container["Config"]["Labels"]["com.retail-platform.role"] == "run-worker"
    assert any("execute_run" in part for part in container["Config"]["Cmd"]), container["Config"]["Cmd"]
    with psycopg.connect(docker_deployment.databases.warehouse_url) as conn:
        assert conn.execute("SELECT count(*) FROM raw.transactions").fetchone()[0] == SAMPLE_ROWS
        assert conn.execute("SELECT count(*) FROM marts.monthly_kpis").fetchone()[0] > 0
        assert conn.execute("SELECT count(*) FROM marts.rfm_scores").fetchone()[0] > 0


RUNS_OF_SENSOR = """
query Runs($filter: RunsFilter!) {
  runsOrError(filter: $filter) { ... on Runs { results { runId status tags { key value } } } }
}
"""


def test_a_dropped_file_is_loaded_by_the_sensor_in_a_run_container(
    docker_deployment: DockerDeployment, docker_full_refresh: dict
):
    from retail_platform.sample_data import write_sample

    name = "docker_sensor_drop.csv"
    # written beside the landing folder on the same file system, then renamed into it: the drop appears whole
    written = docker_deployment.landing.parent / name
    write_sample(written, DROP_ROWS, seed=33)
    written.rename(docker_deployment.landing / name)

    def loaded_by_a_sensor_run() -> dict | None:
        with psycopg.connect(docker_deployment.databases.warehouse_url) as conn:
            row = conn.execute(
                "SELECT status, run_id FROM raw.file_loads WHERE file_name = %s ORDER BY load_id DESC LIMIT 1",
                (name,),
            ).fetchone()
        if row is None or row[0] != "loaded":
            return None
        run = docker_deployment.run(row[1])
        return run if run["status"] == "SUCCESS" else None

    run = wait_for(f"{name} loaded", loaded_by_a_sensor_run, RUN_TIMEOUT, 5, docker_deployment.diagnose)
    tags = {tag["key"]: tag["value"] for tag in run["tags"]}
    assert SENSOR_RUN_TAG in tags, tags
    container = docker_deployment.run_container(run["runId"])
    assert container["State"]["ExitCode"] == 0 and container["Id"] == tags["docker/container_id"]
    # the run container saw the landing folder through the user_code container's mounts
    mounts = {mount["Destination"]: mount for mount in container["Mounts"]}
    assert mounts["/opt/retail/landing"]["Source"] == str(docker_deployment.landing)


@pytest.mark.skipif(not CHROMIUM.exists(), reason=SKIP_REASON)
def test_screenshots_of_the_ui_against_the_containers(
    docker_deployment: DockerDeployment, docker_full_refresh: dict, page
):
    try:
        walk_through_the_ui(docker_deployment, page, prefix="docker-")
    except BaseException:
        page.screenshot(path=str(SCREENSHOTS / "docker-failure.png"))
        raise


def test_the_dashboard_answers(docker_deployment: DockerDeployment, docker_full_refresh: dict):
    if not docker_deployment.dashboard_url:
        pytest.skip("the image has no `retail-platform dashboard` command yet")
    url = docker_deployment.dashboard_url
    wait_for(
        "the dashboard",
        lambda: _http_ok(f"{url}/_stcore/health"),
        STARTUP_TIMEOUT,
        3,
        docker_deployment.diagnose,
    )
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200 and b"<html" in response.read().lower()
    env = docker_deployment.service_container("dashboard")["Config"]["Env"]
    dashboard_url = next(value.split("=", 1)[1] for value in env if value.startswith("RETAIL_DASHBOARD_URL="))
    assert make_url(dashboard_url).username == docker_deployment.databases.dashboard_user
    assert not any(value.startswith("RETAIL_WAREHOUSE_URL=") for value in env), "the owner's URL leaked in"


def test_compose_down_keeps_the_volumes(docker_deployment: DockerDeployment):
    engine.run([*docker_deployment.compose, "down"], LOGS / "compose.log", 300)
    assert engine.containers(f"label=com.docker.compose.project={PROJECT}") == []
    listed = subprocess.run(
        ["docker", "volume", "ls", "--format", "{{.Name}}"], capture_output=True, text=True
    )
    assert set(VOLUMES) <= set(listed.stdout.split()), listed.stdout
    (LOGS / "build-seconds.txt").write_text(
        "".join(f"{step}: {seconds:.0f} s\n" for step, seconds in docker_deployment.build_seconds.items())
    )
