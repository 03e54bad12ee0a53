"""The deployment, live, without Docker: the services of docker-compose.yml as local processes.

One session-scoped fixture builds what `docker compose up` builds, on the PostgreSQL server of the tests
(``RETAIL_TEST_DATABASE_URL``, else 127.0.0.1:5432):

- the postgres service's init script (docker/postgres/initdb) creates Dagster's database and the warehouse, each
  with its own login role (temporary names, dropped at the end);
- the ``migrate`` service's command runs with the deployed docker/dagster.yaml as it is;
- the ``user_code``, ``webserver`` and ``daemon`` commands run as subprocesses, with the project's
  docker/workspace.yaml, host names and ports overridden for localhost (free ports);
- the instance of the three processes is docker/dagster.yaml with ONE change: the run launcher is
  Dagster's DefaultRunLauncher (a run is a subprocess of the code server) instead of the DockerRunLauncher.

Every process is killed (process group) and every database and role dropped in teardown. Process output is
kept under test-artifacts/deploy-logs/ for CI.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from sqlalchemy.engine import make_url

from retail_platform.warehouse.connection import libpq_url
from retail_platform_tests.deploy import support
from retail_platform_tests.processes import BIN, Process, admin_url_or_skip, clean_env, free_port, wait_for

SAMPLE_ROWS = 3_000
STARTUP_TIMEOUT = 180
RUN_TIMEOUT = 300
LOGS = support.ARTIFACTS / "deploy-logs"


def _with(url: str, **parts) -> str:
    return libpq_url(make_url(url).set(**parts).render_as_string(hide_password=False))


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """Admin URL of the tests' PostgreSQL server; the live tests skip when none is reachable."""
    return admin_url_or_skip()


class Databases:
    """Dagster's storage and the warehouse, as the compose postgres service creates them: a login role for
    Dagster and one for the warehouse, each owning the database of its own name, and the dashboard's role."""

    password = "deploy-test-password"

    def __init__(self, admin_url: str, suffix: str) -> None:
        self.admin_url = admin_url
        self.init_script_used = False
        self.dagster_user = self.dagster_db = f"rp_deploy_dagster_{suffix}"
        self.warehouse_user = self.warehouse_db = f"rp_deploy_retail_{suffix}"
        self.dashboard_user = f"rp_deploy_dashboard_{suffix}"
        self.dagster_url = self._login_url(self.dagster_user)
        self.warehouse_url = self._login_url(self.warehouse_user)

    def _login_url(self, role: str) -> str:
        """The URL ``role`` logs in with, to its own database."""
        return _with(self.admin_url, username=role, password=self.password, database=role)


@contextlib.contextmanager
def created_databases(postgres_admin_url: str) -> Iterator[Databases]:
    """Dagster's database and the warehouse with their roles, as the compose init script creates them
    (temporary names); dropped on exit."""
    databases = Databases(postgres_admin_url, uuid.uuid4().hex[:10])
    admin = make_url(postgres_admin_url)
    script = support.ROOT / "docker" / "postgres" / "initdb" / "10-retail-platform.sh"
    try:
        if shutil.which("psql"):
            # The compose init script itself, with the variables the postgres service gives it.
            env = {
                **os.environ,
                "PGHOST": admin.host or "127.0.0.1",
                "PGPORT": str(admin.port or 5432),
                "PGPASSWORD": admin.password or "",
                "POSTGRES_USER": admin.username or "postgres",
                "POSTGRES_DB": admin.database or "postgres",
                "DAGSTER_POSTGRES_USER": databases.dagster_user,
                "DAGSTER_POSTGRES_PASSWORD": databases.password,
                "DAGSTER_POSTGRES_DB": databases.dagster_db,
                "RETAIL_WAREHOUSE_USER": databases.warehouse_user,
                "RETAIL_WAREHOUSE_PASSWORD": databases.password,
                "RETAIL_WAREHOUSE_DB": databases.warehouse_db,
                "RETAIL_DASHBOARD_USER": databases.dashboard_user,
                "RETAIL_DASHBOARD_PASSWORD": databases.password,
            }
            completed = subprocess.run(
                ["bash", str(script)], env=env, capture_output=True, text=True, timeout=120
            )
            assert completed.returncode == 0, completed.stdout + completed.stderr
            databases.init_script_used = True
        else:  # pragma: no cover - psql ships with the machine's PostgreSQL
            with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
                for user, db in (
                    (databases.dagster_user, databases.dagster_db),
                    (databases.warehouse_user, databases.warehouse_db),
                ):
                    conn.execute(f"CREATE ROLE \"{user}\" LOGIN PASSWORD '{databases.password}'")
                    conn.execute(f'CREATE DATABASE "{db}" OWNER "{user}"')
        yield databases
    finally:
        with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
            for db in (databases.dagster_db, databases.warehouse_db):
                conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            for user in (databases.dagster_user, databases.warehouse_user, databases.dashboard_user):
                conn.execute(f'DROP ROLE IF EXISTS "{user}"')


@pytest.fixture(scope="session")
def deploy_databases(postgres_admin_url: str) -> Iterator[Databases]:
    with created_databases(postgres_admin_url) as databases:
        yield databases


@dataclass
class Deployment:
    databases: Databases
    dagster_home: Path
    migrate_home: Path
    retail_home: Path
    env: dict[str, str]
    webserver_url: str = ""
    migrate_output: str = ""
    processes: list[Process] = field(default_factory=list)

    def diagnose(self) -> str:
        return "\n".join(process.tail() for process in self.processes)

    def graphql(self, query: str, variables: dict | None = None, timeout: float = 60) -> dict:
        request = urllib.request.Request(
            f"{self.webserver_url}/graphql",
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = json.loads(response.read())
        if payload.get("errors"):
            raise AssertionError(f"GraphQL errors: {payload['errors']}")
        return payload["data"]

    def launch(self, job_name: str, asset_paths: list[list[str]] | None = None) -> str:
        selector: dict[str, Any] = {
            "repositoryLocationName": "retail_platform",
            "repositoryName": "__repository__",
            "jobName": job_name,
        }
        if asset_paths:
            selector["assetSelection"] = [{"path": path} for path in asset_paths]
        data = self.graphql(LAUNCH_RUN, {"executionParams": {"selector": selector, "runConfigData": {}}})
        result = data["launchRun"]
        assert result["__typename"] == "LaunchRunSuccess", result
        return result["run"]["runId"]

    def run(self, run_id: str) -> dict:
        return self.graphql(RUN_STATUS, {"runId": run_id})["runOrError"]

    def wait_for_run(self, run_id: str, timeout: float = RUN_TIMEOUT) -> dict:
        def finished():
            run = self.run(run_id)
            return run if run["status"] in ("SUCCESS", "FAILURE", "CANCELED") else None

        return wait_for(f"run {run_id}", finished, timeout, interval=2, diagnose=self.diagnose)

    def run_failure_details(self, run_id: str) -> str:
        data = self.graphql(RUN_LOGS, {"runId": run_id})
        events = data["logsForRun"].get("events", [])
        lines = []
        for event in events:
            if event["__typename"] in ("ExecutionStepFailureEvent", "RunFailureEvent", "EngineEvent"):
                lines.append(f"{event['__typename']}: {event.get('message', '')}")
            error = event.get("error") or {}
            for part in [error, *(error.get("causes") or [])]:
                if part.get("message"):
                    lines.append(f"    {part['message'].strip()[:2000]}")
        return "\n".join(lines)


LAUNCH_RUN = """
mutation Launch($executionParams: ExecutionParams!) {
  launchRun(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on Error { message }
    ... on PythonError { stack }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}
"""

RUN_STATUS = """
query Run($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { runId jobName status startTime endTime tags { key value } }
    ... on Error { message }
  }
}
"""

RUN_LOGS = """
query Logs($runId: ID!) {
  logsForRun(runId: $runId) {
    __typename
    ... on EventConnection { events { __typename ... on MessageEvent { message }
      ... on ExecutionStepFailureEvent { error { message causes { message } } } } }
  }
}
"""

WORKSPACE = """
{
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError { __typename ... on PythonError { message } }
      }
    }
  }
}
"""

DAEMONS = """
{ instance { daemonHealth { allDaemonStatuses { daemonType healthy required } } } }
"""


def _deployed_instance_yaml() -> dict:
    """The deployed docker/dagster.yaml with the one change that a machine without Docker needs."""
    config = support.load_yaml(support.DAGSTER_YAML)
    assert config["run_launcher"]["class"] == "DockerRunLauncher"
    config["run_launcher"] = {"module": "dagster._core.launcher", "class": "DefaultRunLauncher"}
    return config


def _compose_command(service: str, replacements: dict[tuple[str, ...], str]) -> list[str]:
    """The command of a compose service, with some options replaced, its program from this virtualenv."""
    command = list(support.raw_compose()["services"][service]["command"])
    for flags, value in replacements.items():
        command = support.replace_option(command, flags, value)
    program = BIN / command[0]
    assert program.exists(), f"{program} is missing"
    return [str(program), *command[1:]]


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@pytest.fixture(scope="session")
def deployment(deploy_databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    from retail_platform.sample_data import write_sample

    root = tmp_path_factory.mktemp("deployment")
    dagster_home = root / "dagster_home"
    migrate_home = root / "migrate_home"
    retail_home = root / "retail_home"
    for folder in (dagster_home, migrate_home, retail_home / "landing"):
        folder.mkdir(parents=True)
    shutil.copy(support.DAGSTER_YAML, migrate_home / "dagster.yaml")  # exactly as deployed
    (dagster_home / "dagster.yaml").write_text(yaml.safe_dump(_deployed_instance_yaml(), sort_keys=False))
    write_sample(retail_home / "landing" / "deploy_drop.csv", SAMPLE_ROWS, seed=11)

    shutil.rmtree(LOGS, ignore_errors=True)
    LOGS.mkdir(parents=True)
    databases = deploy_databases
    dagster_db = make_url(databases.dagster_url)
    code_server_port = free_port()
    env = clean_env()
    env.update(
        {
            "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            "DAGSTER_HOME": str(dagster_home),
            "DAGSTER_POSTGRES_HOST": dagster_db.host or "127.0.0.1",
            "DAGSTER_POSTGRES_PORT": str(dagster_db.port or 5432),
            "DAGSTER_POSTGRES_USER": databases.dagster_user,
            "DAGSTER_POSTGRES_PASSWORD": databases.password,
            "DAGSTER_POSTGRES_DB": databases.dagster_db,
            # read by the deployed dagster.yaml's Docker run launcher (the migrate step loads that file)
            "DAGSTER_RUN_NETWORK": "retail_platform_network",
            "RETAIL_WAREHOUSE_URL": databases.warehouse_url,
            "RETAIL_HOME": str(retail_home),
            "RETAIL_LANDING_DIR": str(retail_home / "landing"),
            "DAGSTER_CODE_SERVER_HOST": "127.0.0.1",
            "DAGSTER_CODE_SERVER_PORT": str(code_server_port),
        }
    )
    deployment = Deployment(databases, dagster_home, migrate_home, retail_home, env)

    # The migrate service: its command, with the unmodified dagster.yaml (Docker run launcher and all); the
    # wait script from the checkout instead of its copy in the image.
    migrate_command = [
        part.replace(support.IMAGE_WAIT_SCRIPT, str(support.ROOT / "docker" / "wait_for_postgres.py"))
        for part in support.raw_compose()["services"]["migrate"]["command"]
    ]
    completed = subprocess.run(
        migrate_command,
        env={**env, "DAGSTER_HOME": str(migrate_home)},
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    deployment.migrate_output = completed.stdout + completed.stderr
    (LOGS / "migrate.log").write_text(deployment.migrate_output)
    assert completed.returncode == 0, deployment.migrate_output

    webserver_port = free_port()
    workspace = str(support.WORKSPACE_YAML)
    deployment.processes = [
        Process(
            "user_code",
            _compose_command(
                "user_code", {("-h", "--host"): "127.0.0.1", ("-p", "--port"): str(code_server_port)}
            ),
            LOGS / "user_code.log",
        ),
        Process(
            "webserver",
            _compose_command(
                "webserver",
                {("-h", "--host"): "127.0.0.1", ("-p", "--port"): str(webserver_port), ("-w",): workspace},
            ),
            LOGS / "webserver.log",
        ),
        Process("daemon", _compose_command("daemon", {("-w",): workspace}), LOGS / "daemon.log"),
    ]
    deployment.webserver_url = f"http://127.0.0.1:{webserver_port}"

    def alive() -> None:
        for process in deployment.processes:
            if process.popen is not None and process.popen.poll() is not None:
                pytest.fail(f"{process.name} exited with {process.popen.returncode}\n{process.tail()}")

    try:
        user_code, *others = deployment.processes
        user_code.start(env, cwd=support.ROOT)

        def code_server_healthy() -> bool:
            alive()
            from dagster._grpc.client import DagsterGrpcClient

            with contextlib.redirect_stdout(io.StringIO()):  # the client prints every refused connection
                status = DagsterGrpcClient(port=code_server_port, host="127.0.0.1").health_check_query()
            return status == "SERVING"

        wait_for("the code server", code_server_healthy, STARTUP_TIMEOUT, diagnose=deployment.diagnose)
        # as in compose: webserver and daemon start once the code server is healthy (depends_on)
        for process in others:
            process.start(env, cwd=support.ROOT)

        def webserver_up() -> bool:
            alive()
            return _http_ok(f"{deployment.webserver_url}/server_info")

        wait_for("the webserver", webserver_up, STARTUP_TIMEOUT, diagnose=deployment.diagnose)

        def location_loaded() -> bool:
            alive()
            entries = deployment.graphql(WORKSPACE)["workspaceOrError"]["locationEntries"]
            (entry,) = entries
            if entry["loadStatus"] != "LOADED":
                return False
            assert entry["locationOrLoadError"]["__typename"] == "RepositoryLocation", entry
            return True

        wait_for(
            "the code location in the webserver", location_loaded, STARTUP_TIMEOUT, 2, deployment.diagnose
        )

        def daemons_healthy() -> bool:
            alive()
            statuses = deployment.graphql(DAEMONS)["instance"]["daemonHealth"]["allDaemonStatuses"]
            return all(status["healthy"] for status in statuses if status["required"])

        wait_for("the daemon", daemons_healthy, STARTUP_TIMEOUT, 2, deployment.diagnose)
        yield deployment
    finally:
        for process in reversed(deployment.processes):
            process.stop()


@pytest.fixture(scope="session")
def full_refresh_run(deployment: Deployment) -> dict:
    """The main job, launched through the webserver's GraphQL API and run by the daemon's queue."""
    run_id = deployment.launch("full_refresh_job")
    run = deployment.wait_for_run(run_id)
    assert run["status"] == "SUCCESS", (
        f"{run}\n{deployment.run_failure_details(run_id)}\n{deployment.diagnose()}"
    )
    return run


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Any]:
    """A headless Chromium page (Debian's package, browser.py), closed after the test."""
    from retail_platform_tests.deploy.browser import SCREENSHOTS, chromium_page

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with chromium_page(tmp_path / "chromium-profile") as page:
        yield page
