"""Static checks of the deployment files: what can be proven about `docker compose up` without a Docker engine.

The compose file is read as Compose reads it (YAML merge keys, ``${VAR:-default}`` / ``${VAR:?error}``
interpolation with the values of ``.env.example``); ``docker/dagster.yaml`` and ``docker/workspace.yaml`` are validated with
Dagster's own schemas and classes.
"""

from __future__ import annotations

import re
import tomllib

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from retail_platform_tests.deploy import support
from retail_platform_tests.deploy.support import ROOT

DAGSTER_SERVICES = ("migrate", "user_code", "webserver", "daemon")
BUILT_SERVICES = (*DAGSTER_SERVICES, "dashboard")
TEST_PASSWORDS = {
    "POSTGRES_PASSWORD": "super-secret",
    "DAGSTER_POSTGRES_PASSWORD": "dagster-secret",
    "RETAIL_WAREHOUSE_PASSWORD": "warehouse-secret",
    "RETAIL_DASHBOARD_PASSWORD": "dashboard-secret",
}


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    return support.read_env_file(support.ENV_EXAMPLE)


@pytest.fixture(scope="module")
def env(env_example) -> dict[str, str]:
    """The environment of `docker compose up` after `cp .env.example .env` and filling in the passwords."""
    return {**env_example, **TEST_PASSWORDS}


@pytest.fixture(scope="module")
def compose(env) -> dict:
    return support.compose(env)


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


@pytest.fixture(scope="module")
def instance_yaml() -> dict:
    return support.load_yaml(support.DAGSTER_YAML)


@pytest.fixture(scope="module")
def launcher(instance_yaml) -> dict:
    return instance_yaml["run_launcher"]["config"]


# --- the compose file --------------------------------------------------------------------------------------------


def test_compose_file_parses_with_the_expected_services(compose, env_example):
    assert set(compose["services"]) == {"postgres", *BUILT_SERVICES}
    # docker-compose 1.x rejects a top-level name: the project name comes from .env
    assert "name" not in compose and env_example["COMPOSE_PROJECT_NAME"] == "retail_platform"
    assert "version" not in compose, "the top-level version key is obsolete in Compose v2"


def test_the_example_env_file_is_complete_and_holds_no_secret(env_example):
    raw = support.raw_compose()
    required = support.required_variables(raw)
    # Compose refuses to start without them: each must be in .env.example, and empty there.
    assert required == set(TEST_PASSWORDS)
    for name in required:
        assert name in env_example, f"{name} is required by docker-compose.yml but not in .env.example"
        assert env_example[name] == "", f".env.example must not hold a value for the secret {name}"
    with pytest.raises(support.MissingVariable):
        support.compose(env_example)
    # Every variable compose reads has a default or an entry in .env.example (commented optional ones count).
    used = {
        match["name"] or match["bare"]
        for match in support._INTERPOLATION.finditer(support.COMPOSE_FILE.read_text())
        if not match["escaped"]
    }
    documented = set(env_example) | set(
        re.findall(r"^#\s*([A-Z_][A-Z0-9_]*)=", support.ENV_EXAMPLE.read_text(), re.MULTILINE)
    )
    # $${DAGSTER_POSTGRES_DB} in the healthcheck is the container's variable, escaped from compose.
    assert used - documented == set(), "compose variables missing from .env.example"


def test_no_secret_is_committed_in_the_deployment_files(services, instance_yaml):
    for name, service in support.raw_compose()["services"].items():
        for key, value in support.service_env(service).items():
            if "PASSWORD" in key:
                assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]+\}", value), f"{name}.{key} must come from .env"
        url = support.service_env(service).get("RETAIL_WAREHOUSE_URL")
        if url:
            assert "${RETAIL_WAREHOUSE_PASSWORD:?" in url
        dashboard_url = support.service_env(service).get("RETAIL_DASHBOARD_URL")
        if dashboard_url:
            assert "${RETAIL_DASHBOARD_PASSWORD:?" in dashboard_url
    for key, value in instance_yaml["storage"]["postgres"]["postgres_db"].items():
        if key != "scheme":
            assert isinstance(value, dict) and set(value) == {"env"}, f"storage {key} must be an env var"
    gitignore = (ROOT / ".gitignore").read_text().split()
    assert ".env" in gitignore
    rules = support.dockerignore_rules()
    assert not support.in_build_context(".env", rules)
    assert not support.in_build_context(".git/config", rules)
    assert not support.in_build_context(".retail_platform/pgdata/PG_VERSION", rules)
    assert not support.in_build_context("landing/drop.csv", rules)


def test_the_managed_postgres_override_removes_only_the_bundled_server(compose):
    # plain YAML (no `!reset`, which docker-compose 1.x and Compose < 2.24 reject)
    override = support.load_yaml(ROOT / "docker" / "compose.managed-postgres.yml")
    assert override["services"] == {"postgres": {"profiles": ["bundled-postgres"]}}
    # nobody waits for the postgres service (migrate waits for the databases itself), so nothing else changes
    for name, service in compose["services"].items():
        assert "postgres" not in service.get("depends_on", {}), name


def test_the_host_network_override_changes_only_networks_and_ports(services):
    override = support.load_yaml(ROOT / "docker" / "compose.host-network.yml")["services"]
    assert set(override) == set(BUILT_SERVICES)
    for name, changes in override.items():
        assert changes["network_mode"] == "host", name
        assert set(changes) <= {"network_mode", "command", "environment", "healthcheck"}, name
        environment = support.service_env(changes)
        assert environment.get("DAGSTER_RUN_NETWORK", "host") == "host", name
        if "command" not in changes:
            continue
        # the base command with only the listening address and port changed
        base, command = services[name]["command"], changes["command"]
        assert len(base) == len(command), name
        differing = {base[i - 1] for i, (a, b) in enumerate(zip(base, command, strict=True)) if a != b}
        assert differing <= {"-h", "-p", "--host", "--port"}, (name, differing)
    for name in ("webserver", "daemon"):
        assert support.service_env(override[name])["DAGSTER_CODE_SERVER_HOST"] == "127.0.0.1"


def test_every_build_context_dockerfile_and_target_exists(services):
    built = {name: service for name, service in services.items() if "build" in service}
    assert set(built) == set(BUILT_SERVICES)
    rules = support.dockerignore_rules()
    for name, service in built.items():
        build = service["build"]
        context = (ROOT / build["context"]).resolve()
        assert context.is_dir(), f"{name}: build context {context} is missing"
        dockerfile = context / build.get("dockerfile", "Dockerfile")
        assert dockerfile.is_file(), f"{name}: {dockerfile} is missing"
        stages = support.dockerfile_stages(dockerfile)
        assert build["target"] in stages, f"{name}: no stage {build['target']!r} in {dockerfile}"
        defaults = support.dockerfile_arg_defaults(dockerfile)
        # Every file the Dockerfile copies exists and is sent in the build context (not .dockerignored).
        for instructions in stages.values():
            for line in instructions:
                if not line.upper().startswith("COPY ") or "--from" in line:
                    continue
                sources = [support.interpolate_text(source, defaults) for source in line.split()[1:-1]]
                for source in sources:
                    assert (context / source).exists(), f"{dockerfile.name}: COPY {source}: missing"
                    assert support.in_build_context(source, rules), f"COPY {source} is .dockerignored"
                    if (context / source).is_dir():
                        files = [path for path in (context / source).rglob("*") if path.is_file()]
                        sent = [
                            f for f in files if support.in_build_context(str(f.relative_to(context)), rules)
                        ]
                        assert sent, f"COPY {source}: nothing of it is in the build context"


def test_images_are_pinned_and_shared_as_intended(services, launcher):
    dockerfile = ROOT / "docker" / "Dockerfile"
    text = dockerfile.read_text()
    base = re.search(r"^ARG BASE_IMAGE=(\S+)$", text, re.MULTILINE)[1]
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", base), base
    assert re.fullmatch(r"postgres:15\.\d+-bookworm(@sha256:[0-9a-f]{64})?", services["postgres"]["image"])

    user_code = services["user_code"]
    image = user_code["image"]
    assert image == "retail_platform_user_code:latest"
    # The run launcher starts each run in the image the code server reports: DAGSTER_CURRENT_IMAGE.
    assert support.service_env(user_code)["DAGSTER_CURRENT_IMAGE"] == image
    assert "image" not in launcher, "a fixed run launcher image would ignore the code location's image"
    # Services sharing an image share its build, so compose never pulls a name it is meant to build.
    by_image: dict[str, list[dict]] = {}
    for service in services.values():
        by_image.setdefault(service["image"], []).append(service.get("build"))
    for name, builds in by_image.items():
        assert all(build == builds[0] for build in builds), f"{name} is built in different ways"
    assert services["migrate"]["image"] == services["dashboard"]["image"] == image
    assert services["webserver"]["image"] == services["daemon"]["image"] != image
    assert (
        user_code["build"]["target"] == "user_code" and services["webserver"]["build"]["target"] == "dagster"
    )


def test_requirements_lock_pins_every_runtime_dependency_within_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = [
        line
        for line in (ROOT / "docker" / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    pins = {}
    for line in lines:
        requirement = Requirement(line)
        (spec,) = requirement.specifier
        assert spec.operator == "==", line
        pins[canonicalize_name(requirement.name)] = spec.version
    for text in project["dependencies"]:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not pinned in docker/requirements.txt"
        assert requirement.specifier.contains(pins[name], prereleases=True), (text, pins[name])
    # Dagster's libraries are released in lockstep: 1.X.Y with 0.(X+16).Y.
    _, minor, patch = pins["dagster"].split(".")
    for library in ("dagster-postgres", "dagster-docker"):
        assert pins[library] == f"0.{int(minor) + 16}.{patch}", library
    for core in ("dagster-webserver", "dagster-graphql", "dagster-pipes", "dagster-shared"):
        assert pins[core] == pins["dagster"], core


def test_dockerfile_homes_match_the_compose_commands(services):
    stages = support.dockerfile_stages(ROOT / "docker" / "Dockerfile")
    assert "DAGSTER_HOME=/opt/dagster/dagster_home" in " ".join(stages["python"])
    for target in ("dagster", "user_code"):
        assert "COPY docker/dagster.yaml /opt/dagster/dagster_home/dagster.yaml" in stages[target], target
    assert "COPY docker/workspace.yaml /opt/dagster/dagster_home/workspace.yaml" in stages["dagster"]
    for name in ("webserver", "daemon"):
        command = services[name]["command"]
        assert support.option(command, "-w", "--workspace") == "/opt/dagster/dagster_home/workspace.yaml"
    # compute logs: written by run containers (mounts of user_code), read by the webserver
    storage_mount = "dagster_storage:/opt/dagster/dagster_home/storage"
    assert storage_mount in services["user_code"]["volumes"]
    assert storage_mount in services["webserver"]["volumes"]


# --- environment variables -----------------------------------------------------------------------------------------


def test_instance_variables_are_set_on_every_dagster_service(services, instance_yaml):
    needed = support.env_references(instance_yaml)
    assert needed == {
        "DAGSTER_RUN_NETWORK",
        "DAGSTER_POSTGRES_HOST",
        "DAGSTER_POSTGRES_PORT",
        "DAGSTER_POSTGRES_USER",
        "DAGSTER_POSTGRES_PASSWORD",
        "DAGSTER_POSTGRES_DB",
    }
    for name in DAGSTER_SERVICES:
        missing = needed - set(support.service_env(services[name]))
        assert not missing, f"{name} lacks {missing}"
    # the init script of the postgres service creates the same user and database
    postgres_env = support.service_env(services["postgres"])
    storage_env = support.service_env(services["daemon"])
    for key in ("DAGSTER_POSTGRES_USER", "DAGSTER_POSTGRES_PASSWORD", "DAGSTER_POSTGRES_DB"):
        assert postgres_env[key] == storage_env[key]
    assert storage_env["DAGSTER_POSTGRES_HOST"] == "postgres"


def test_the_run_launcher_forwards_everything_a_run_needs_from_the_daemon(services, instance_yaml, launcher):
    forwarded = [name for name in launcher["env_vars"] if "=" not in name]
    daemon_env = support.service_env(services["daemon"])
    user_code_env = support.service_env(services["user_code"])
    # DockerRunLauncher raises at launch for a listed variable the daemon does not have.
    assert set(forwarded) <= set(daemon_env), set(forwarded) - set(daemon_env)
    # The run rebuilds the instance from dagster.yaml: storage variables must reach it.
    assert support.env_references(instance_yaml) <= set(forwarded)
    # A run sees the same settings as the code server that defines it: every RETAIL_* variable the code reads.
    read_by_code = _settings_read_by_the_code()
    assert {"RETAIL_WAREHOUSE_URL", "RETAIL_HOME", "RETAIL_LANDING_DIR"} <= read_by_code
    for place, names in (
        ("dagster.yaml run_launcher.config.env_vars", set(forwarded)),
        ("docker-compose.yml user_code environment", set(user_code_env)),
        ("docker-compose.yml daemon environment", set(daemon_env)),
    ):
        missing = read_by_code - names
        assert not missing, f"{place} lacks {sorted(missing)} (add to x-retail-env and env_vars)"
    retail_settings = {key for key in user_code_env if key.startswith("RETAIL_")}
    assert retail_settings == {key for key in forwarded if key.startswith("RETAIL_")}
    for key in forwarded:
        assert daemon_env[key] == user_code_env[key], f"daemon and user_code disagree on {key}"
    warehouse = daemon_env["RETAIL_WAREHOUSE_URL"]
    assert warehouse == "postgresql://retail:warehouse-secret@postgres:5432/retail"
    postgres_env = support.service_env(services["postgres"])
    assert (
        postgres_env["RETAIL_WAREHOUSE_USER"] == "retail" and postgres_env["RETAIL_WAREHOUSE_DB"] == "retail"
    )


# Read by the tests only; by the dashboard service only (its own read-only credentials, never a run's); by
# commands a person runs once (`retail-platform create-webapp-role`), never by the code location or a run.
TEST_SETTINGS = {"RETAIL_TEST_DATABASE_URL"}
DASHBOARD_SETTINGS = {"RETAIL_DASHBOARD_URL", "RETAIL_DASHBOARD_HOST", "RETAIL_DASHBOARD_PORT"}
ADMIN_COMMAND_SETTINGS = {"RETAIL_WEBAPP_ROLE", "RETAIL_WEBAPP_PASSWORD"}


def _settings_read_by_the_code() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "retail_platform").rglob("*.py"):
        names |= set(re.findall(r"[\"'](RETAIL_[A-Z0-9_]+)[\"']", path.read_text(encoding="utf-8")))
    return names - TEST_SETTINGS - DASHBOARD_SETTINGS - ADMIN_COMMAND_SETTINGS


def test_the_user_code_image_installs_the_project_as_a_wheel():
    stages = support.dockerfile_stages(ROOT / "docker" / "Dockerfile")
    assert "COPY sql ./sql" in stages["wheel"]
    assert any("pip wheel --no-deps" in line for line in stages["wheel"])
    venv = " ".join(stages["user_code_venv"])
    assert "COPY --from=wheel /opt/dist /opt/dist" in venv
    assert "pip install --constraint /opt/requirements.txt /opt/dist/*.whl && pip check" in venv
    user_code = " ".join(stages["user_code"])
    assert "COPY --from=user_code_venv /opt/venv /opt/venv" in user_code
    # no source tree and no SQL folder setting: the wheel carries its SQL
    assert "RETAIL_SQL_DIR" not in user_code and "COPY retail_platform" not in user_code


def test_the_dashboard_reads_with_its_own_read_only_login(services):
    dashboard = services["dashboard"]
    env = support.service_env(dashboard)
    assert set(env) == {"RETAIL_DASHBOARD_URL", "RETAIL_HOME"}, "no owner URL, no Dagster storage"
    assert env["RETAIL_DASHBOARD_URL"].startswith("postgresql://retail_dashboard:dashboard-secret@postgres:")
    assert support.option(dashboard["command"], "--port") == "8501"
    script = (ROOT / "docker/postgres/initdb/10-retail-platform.sh").read_text()
    assert (
        'CREATE ROLE :"dashboard_user" LOGIN' in script and "IN ROLE retail_reader, retail_monitor" in script
    )


def test_workspace_points_at_the_code_server_service(services):
    workspace = support.load_yaml(support.WORKSPACE_YAML)
    (entry,) = workspace["load_from"]
    grpc = entry["grpc_server"]
    assert support.env_references(grpc) == {"DAGSTER_CODE_SERVER_HOST", "DAGSTER_CODE_SERVER_PORT"}
    user_code = services["user_code"]
    command = user_code["command"]
    port = support.option(command, "-p", "--port")
    assert support.option(command, "-h", "--host") == "0.0.0.0", (
        "the code server must listen beyond localhost"
    )
    assert support.option(command, "-m", "--module-name") == "retail_platform.definitions"
    assert support.option(command, "--location-name") == grpc["location_name"] == "retail_platform"
    assert str(port) in [str(p) for p in user_code["expose"]]
    assert support.option(user_code["healthcheck"]["test"], "-p", "--port") == port
    for name in ("webserver", "daemon"):
        env = support.service_env(services[name])
        assert env["DAGSTER_CODE_SERVER_HOST"] == "user_code", name
        assert env["DAGSTER_CODE_SERVER_PORT"] == port, name
        # The daemon (launching runs) and the webserver wait for a healthy code server.
        assert services[name]["depends_on"]["user_code"]["condition"] == "service_healthy"
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


# --- network, ports, volumes ---------------------------------------------------------------------------------------


def test_one_network_with_the_name_the_run_launcher_uses(compose, launcher):
    assert compose["networks"] == {"default": {"name": "retail_platform_network"}}
    assert launcher["network"] == {"env": "DAGSTER_RUN_NETWORK"}
    for name, service in compose["services"].items():
        # on the default network, so that the host-network override needs no `!reset` of `networks`
        assert "networks" not in service and "network_mode" not in service, name
        if name in DAGSTER_SERVICES:
            assert support.service_env(service)["DAGSTER_RUN_NETWORK"] == "retail_platform_network", name


def test_ports(services, env, env_example):
    # published by docker/compose.ports.yml only (the host-network override must not meet any), which
    # COMPOSE_FILE of .env.example reads after the base file
    assert env_example["COMPOSE_FILE"].split(":") == ["docker-compose.yml", "docker/compose.ports.yml"]
    for name, service in services.items():
        assert "ports" not in service, f"{name} publishes a port in docker-compose.yml"
    published = support.interpolate(support.load_yaml(ROOT / "docker" / "compose.ports.yml"), env)["services"]
    assert set(published) == {"webserver", "dashboard"}
    webserver = services["webserver"]
    port = support.option(webserver["command"], "-p", "--port")
    assert support.option(webserver["command"], "-h", "--host") == "0.0.0.0"
    (mapping,) = published["webserver"]["ports"]
    assert mapping == f"127.0.0.1:3000:{port}", "the UI has no login: loopback unless configured otherwise"
    assert f":{port}/server_info" in " ".join(webserver["healthcheck"]["test"])
    (dashboard,) = published["dashboard"]["ports"]
    dashboard_port = support.option(services["dashboard"]["command"], "--port")
    assert dashboard == f"127.0.0.1:8501:{dashboard_port}", "the dashboard has no login either"


def test_volumes_and_mounts(compose, launcher):
    services = compose["services"]
    user_code = services["user_code"]
    declared = compose["volumes"]
    for name, volume in declared.items():
        assert volume["name"].startswith("retail_platform_"), f"volume {name} needs a fixed name"
    for name, service in services.items():
        for mount in service.get("volumes", []):
            source, target = mount.split(":")[:2]
            assert target.startswith("/"), f"{name}: {mount}"
            if source.startswith(("./", "/")):
                if source.startswith("./") and source != "./landing":
                    assert (ROOT / source).exists(), f"{name}: bind source {source} is missing"
            else:
                assert source in declared, f"{name}: volume {source} is not declared"
    # The landing folder is a bind mount of a host folder; run containers inherit it with the rest of the
    # user code container's mounts, so no host path is written into dagster.yaml.
    assert "./landing:/opt/retail/landing" in user_code["volumes"]
    assert launcher["container_kwargs"]["volumes_from"] == [user_code["container_name"]]
    assert "volumes" not in launcher["container_kwargs"]
    retail_env = support.service_env(user_code)
    assert retail_env["RETAIL_LANDING_DIR"] == "/opt/retail/landing"
    assert "retail_home:" + retail_env["RETAIL_HOME"] in user_code["volumes"]
    for name in ("daemon", "webserver"):
        assert "/var/run/docker.sock:/var/run/docker.sock" in services[name]["volumes"], name
    # init script of the postgres service
    assert "./docker/postgres/initdb:/docker-entrypoint-initdb.d:ro" in services["postgres"]["volumes"]
    assert (ROOT / "docker/postgres/initdb/10-retail-platform.sh").stat().st_mode & 0o111


def test_startup_order_and_health(services):
    postgres = services["postgres"]
    assert "pg_isready -h 127.0.0.1" in " ".join(postgres["healthcheck"]["test"])
    # migrate waits for the databases itself (bundled or managed), then migrates both
    assert "depends_on" not in services["migrate"]
    assert services["migrate"]["command"][-1] == (
        f"python {support.IMAGE_WAIT_SCRIPT} && dagster instance migrate && retail-platform migrate"
    )
    stages = support.dockerfile_stages(ROOT / "docker" / "Dockerfile")
    assert f"COPY docker/wait_for_postgres.py {support.IMAGE_WAIT_SCRIPT}" in stages["user_code"]
    for name in ("user_code", "dashboard"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    for name in ("user_code", "webserver", "daemon", "postgres", "dashboard"):
        assert services[name]["restart"] == "unless-stopped", name


# --- Dagster's own schemas -----------------------------------------------------------------------------------------


def test_dagster_yaml_validates_against_dagster_schema(instance_yaml, monkeypatch):
    from dagster._config import process_config
    from dagster._core.instance.config import dagster_instance_config
    from dagster._core.launcher import RunLauncher
    from dagster._core.run_coordinator import QueuedRunCoordinator
    from dagster._core.storage.config import pg_config
    from dagster._serdes.config_class import ConfigurableClassData
    from dagster_docker import DockerRunLauncher

    config, custom_class = dagster_instance_config(str(support.DAGSTER_YAML.parent))
    assert custom_class is None
    assert config["telemetry"] == {"enabled": False}
    assert config["run_monitoring"]["enabled"] and config["run_retries"]["enabled"]
    assert config["retention"]["schedule"]["purge_after_days"] > 0

    # the configurable classes, each with its own schema
    def rehydrate(section: str, as_type):
        data = instance_yaml[section]
        return ConfigurableClassData(data["module"], data["class"], yaml.safe_dump(data["config"])).rehydrate(
            as_type=as_type
        )

    monkeypatch.setenv("DAGSTER_RUN_NETWORK", "retail_platform_network")
    launcher = rehydrate("run_launcher", RunLauncher)
    assert isinstance(launcher, DockerRunLauncher)
    assert launcher.networks == ["retail_platform_network"]
    from dagster._core.run_coordinator.base import RunCoordinator

    coordinator = rehydrate("run_coordinator", RunCoordinator)
    assert isinstance(coordinator, QueuedRunCoordinator)

    # storage: every value resolves from the environment
    for key, value in {
        "DAGSTER_POSTGRES_HOST": "postgres",
        "DAGSTER_POSTGRES_PORT": "5432",
        "DAGSTER_POSTGRES_USER": "dagster",
        "DAGSTER_POSTGRES_PASSWORD": "secret",
        "DAGSTER_POSTGRES_DB": "dagster",
    }.items():
        monkeypatch.setenv(key, value)
    processed = process_config(pg_config(), instance_yaml["storage"]["postgres"])
    assert processed.success, processed.errors
    assert processed.value["postgres_db"]["port"] == 5432
    # SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3, which dagster-postgres' NOTIFY does not support
    from dagster_postgres.utils import pg_url_from_config
    from sqlalchemy.engine import make_url

    url = make_url(pg_url_from_config(processed.value))
    assert url.get_dialect().driver == "psycopg2"
    assert (url.host, url.port, url.database) == ("postgres", 5432, "dagster")


def test_concurrency_allows_one_warehouse_load_at_a_time(instance_yaml):
    from dagster._core.instance.config import ConcurrencyConfig, PoolGranularity

    from retail_platform.definitions import defs
    from retail_platform.defs.ingestion.assets import RAW_TRANSACTIONS, WAREHOUSE_LOAD_POOL

    concurrency = ConcurrencyConfig.from_concurrency_settings(instance_yaml["concurrency"], None)
    assert concurrency.pool_config.pool_granularity == PoolGranularity.RUN
    assert concurrency.pool_config.default_pool_limit == 1
    assert instance_yaml["concurrency"]["runs"]["max_concurrent_runs"] >= 2
    # the load (one multi-asset: transactions, ledger, rejected lines) is in the pool; nothing else is
    pools = {
        key.to_user_string(): defs.resolve_assets_def(key).op.pool
        for key in defs.resolve_asset_graph().get_all_asset_keys()
    }
    loads = {key for key, pool in pools.items() if pool == WAREHOUSE_LOAD_POOL}
    assert RAW_TRANSACTIONS.to_user_string() in loads
    assert {"raw/transactions", "raw/file_loads", "raw/rejected_lines"} <= loads
    assert all(key.startswith("raw/") for key in loads), loads


def test_workspace_yaml_validates_against_dagster_schema(monkeypatch):
    from dagster._core.workspace.config_schema import ensure_workspace_config

    monkeypatch.setenv("DAGSTER_CODE_SERVER_HOST", "user_code")
    monkeypatch.setenv("DAGSTER_CODE_SERVER_PORT", "4000")
    config = ensure_workspace_config(support.load_yaml(support.WORKSPACE_YAML), str(support.WORKSPACE_YAML))
    assert config["load_from"][0]["grpc_server"]["location_name"] == "retail_platform"

    # and it loads: the target Dagster builds from it is the gRPC server
    from dagster._core.workspace.load_target import WorkspaceFileTarget

    (origin,) = WorkspaceFileTarget(paths=[str(support.WORKSPACE_YAML)]).create_origins()
    assert (origin.host, origin.port, origin.location_name) == ("user_code", 4000, "retail_platform")


def test_the_readme_says_how_to_rerun_the_docker_proof():
    readme = (ROOT / "README.md").read_text()
    text = readme[readme.index("## Deployment") : readme.index("## Performance")]
    assert "pytest retail_platform_tests/deploy/test_docker.py" in text
    assert "not verified" not in text.lower()
    for path in (
        "docker/compose.host-network.yml",
        "docker/compose.managed-postgres.yml",
        "docker/dagster.yaml",
    ):
        assert (ROOT / path).exists() and path in text, path
