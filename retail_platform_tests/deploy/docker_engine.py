"""A Docker engine for the live compose test (test_docker.py): started when it is not running, images built from
the project's own Dockerfile, compose driven through `docker-compose` (or the `docker compose` plugin).

Works offline, as on the CI machine (no image registry reachable): the base image is a Debian bookworm made with
debootstrap from Debian's archive, with the interpreter the tests run on copied in (bookworm's own Python is
3.11.2, below the floor of some locked packages, e.g. soupsieve 4.1 needs 3.11.5; the Dockerfile's default image
and CI have 3.11.7), imported once; pip installs from a wheelhouse made on the host with
`pip wheel -r docker/requirements.txt .`. Both are cached between runs (the base image in the engine, the wheels
under ``RETAIL_DOCKER_CACHE``, default /var/cache/retail-platform-docker), and so is the classic builder's layer
cache: a second run rebuilds only the layers of the project's own code.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from retail_platform_tests.processes import BIN, Process

CACHE = Path(os.environ.get("RETAIL_DOCKER_CACHE") or "/var/cache/retail-platform-docker")
# The Dockerfile's default base image, used when it is already present in the engine (a connected machine).
PUBLIC_BASE_IMAGE = "python:3.11.7-slim-bookworm"
PYTHON = Path(sys.base_prefix)  # the interpreter of the tests (and of docker/requirements.txt)
DEBOOTSTRAP_IMAGE = f"retail-platform-base:bookworm-python{platform.python_version()}"
# Not needed in an image: CPython's own test suite and whatever the host installed into the interpreter.
PYTHON_EXCLUDES = (
    "lib/python3.*/test",
    "lib/python3.*/site-packages/*",
    "lib/python3.*/idlelib",
    "**/__pycache__",
)
DEBOOTSTRAP = [
    "debootstrap",
    "--variant=minbase",
    "--include=python3,python3-venv,ca-certificates",
    "bookworm",
]
DEBIAN_MIRROR = os.environ.get("RETAIL_DEBIAN_MIRROR") or "http://deb.debian.org/debian"
# The image's PATH (`docker import` gives an image without any environment): the copied interpreter first.
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
WHEELHOUSE = "docker/wheelhouse"  # inside the build context (docker/Dockerfile build argument WHEELHOUSE)
INSTALL_HINT = "apt-get install docker.io docker-compose debootstrap (.ci/run does)"


def run(
    command: Sequence[str], log: Path, timeout: float, env: dict[str, str] | None = None, cwd=None
) -> str:
    """Run a command, its output appended to ``log``; fail the test with the output's tail on an error."""
    started = time.monotonic()
    completed = subprocess.run(
        list(command), capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd, check=False
    )
    output = completed.stdout + completed.stderr
    with log.open("a") as handle:
        handle.write(
            f"\n=== {' '.join(command)} ({time.monotonic() - started:.0f} s, rc {completed.returncode})\n"
        )
        handle.write(output)
    if completed.returncode != 0:
        pytest.fail(f"{' '.join(command[:4])} ... failed ({completed.returncode}):\n{output[-6000:]}")
    return completed.stdout


def _engine_answers() -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    probe = subprocess.run(
        [docker, "info", "--format", "{{.ServerVersion}}"], capture_output=True, timeout=30
    )
    return probe.returncode == 0


def start_engine(logs: Path) -> Process | None:
    """The running engine (None), or a dockerd started here; skip where none can run."""
    if _engine_answers():
        return None
    dockerd = shutil.which("dockerd") or ("/usr/sbin/dockerd" if Path("/usr/sbin/dockerd").exists() else None)
    if dockerd is None or shutil.which("docker") is None:
        pytest.skip(f"no Docker engine: dockerd or the docker client is not installed ({INSTALL_HINT})")
    if os.geteuid() != 0:
        pytest.skip("no Docker engine running, and starting dockerd needs root")
    process = Process("dockerd", [dockerd], logs / "dockerd.log")
    process.start(dict(os.environ))
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if _engine_answers():
            return process
        if not process.alive():
            break
        time.sleep(1)
    process.stop()
    pytest.skip(f"dockerd could not start on this machine:\n{process.tail(30)}")


def compose_command() -> list[str]:
    """docker-compose (1.29, Debian's package) or the Compose v2 plugin, whichever is installed."""
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    plugin = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30)
    if plugin.returncode == 0:
        return ["docker", "compose"]
    pytest.fail(f"neither docker-compose nor the docker compose plugin is installed ({INSTALL_HINT})")


def image_exists(name: str) -> bool:
    return (
        subprocess.run(["docker", "image", "inspect", name], capture_output=True, timeout=60).returncode == 0
    )


def base_image(logs: Path) -> str:
    """The Dockerfile's public default when present, else the debootstrap image (made once, then cached)."""
    wanted = os.environ.get("RETAIL_DOCKER_BASE_IMAGE")
    if wanted:
        return wanted
    for name in (PUBLIC_BASE_IMAGE, DEBOOTSTRAP_IMAGE):
        if image_exists(name):
            return name
    if shutil.which("debootstrap") is None:
        pytest.fail(f"no base image and no debootstrap to make one ({INSTALL_HINT})")
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE, prefix="rootfs-") as rootfs:
        run([*DEBOOTSTRAP, rootfs, DEBIAN_MIRROR], logs / "base-image.log", timeout=900)
        _copy_interpreter(Path(rootfs), logs)
        tar = subprocess.Popen(["tar", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE)
        path = SYSTEM_PATH if sys.base_prefix == "/usr" else f"{PYTHON / 'bin'}:{SYSTEM_PATH}"
        changes = ["--change", f"ENV PATH={path}", "--change", "ENV LANG=C.UTF-8"]
        imported = subprocess.run(
            ["docker", "import", *changes, "-", DEBOOTSTRAP_IMAGE],
            stdin=tar.stdout,
            capture_output=True,
            text=True,
            timeout=600,
        )
        tar.wait()
        assert imported.returncode == 0 and tar.returncode == 0, imported.stderr
    return DEBOOTSTRAP_IMAGE


def _copy_interpreter(rootfs: Path, logs: Path) -> None:
    """The tests' CPython at its own path in the image, first on PATH (bookworm's python3 stays beside it; a
    symlink would not do: a venv made through it would find bookworm's standard library). Its shared libraries
    (libssl, libffi, sqlite, ...) are those of bookworm's python3, which is installed."""
    if sys.base_prefix == "/usr":
        return  # the tests run on Debian's own Python: the image has the same one
    excludes = [f"--exclude={PYTHON.relative_to('/')}/{pattern}" for pattern in PYTHON_EXCLUDES]
    pack = subprocess.Popen(
        ["tar", "-C", "/", *excludes, "-c", str(PYTHON.relative_to("/"))], stdout=subprocess.PIPE
    )
    unpack = subprocess.run(
        ["tar", "-C", str(rootfs), "-x"], stdin=pack.stdout, capture_output=True, timeout=600
    )
    pack.wait()
    assert pack.returncode == 0 and unpack.returncode == 0, unpack.stderr
    with (logs / "base-image.log").open("a") as log:
        log.write(f"copied {PYTHON} ({platform.python_version()}) into the image, first on PATH\n")


def wheelhouse(root: Path, logs: Path) -> str:
    """docker/wheelhouse filled with the wheels of docker/requirements.txt and of the project's dependencies
    (pyproject.toml: one added since the lock was regenerated comes in too), through the cache."""
    wanted = ["-r", str(root / "docker" / "requirements.txt"), str(root)]
    cached = CACHE / "wheelhouse"
    cached.mkdir(parents=True, exist_ok=True)
    pip = [str(BIN / "python"), "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check"]
    target = root / WHEELHOUSE
    for old in target.glob("*.whl"):
        old.unlink()
    offline = [*pip, "--no-index", "--find-links", str(cached), *wanted, "-w", str(target)]
    # Offline from the cache: copies exactly those wheels into the build context. Only when the cache lacks one
    # (first run, a new dependency or version) does pip go to the package index, for what is missing.
    attempt = subprocess.run(offline, capture_output=True, text=True, timeout=600)
    with (logs / "wheels.log").open("a") as log:
        log.write(f"=== offline from the cache: rc {attempt.returncode}\n{attempt.stderr[-3000:]}\n")
    if attempt.returncode != 0:
        run([*pip, "--find-links", str(cached), *wanted, "-w", str(cached)], logs / "wheels.log", 1800)
        run(offline, logs / "wheels.log", 600)
    # The image builds the project's own wheel from its source (docker/Dockerfile, stage wheel).
    for own in [*target.glob("retail_platform-*.whl"), *cached.glob("retail_platform-*.whl")]:
        own.unlink()
    return WHEELHOUSE


def build(root: Path, target: str, tag: str, base: str, wheels: str, logs: Path) -> float:
    """One target of docker/Dockerfile with the classic builder (no network for a BuildKit frontend)."""
    started = time.monotonic()
    run(
        [
            "docker",
            "build",
            "--force-rm",
            "--file",
            str(root / "docker" / "Dockerfile"),
            "--target",
            target,
            "--build-arg",
            f"BASE_IMAGE={base}",
            "--build-arg",
            f"WHEELHOUSE={wheels}",
            "--tag",
            tag,
            str(root),
        ],
        logs / f"build-{target}.log",
        timeout=2400,
        env={**os.environ, "DOCKER_BUILDKIT": "0"},
    )
    return time.monotonic() - started


def inspect(name: str) -> dict:
    """`docker inspect` of one container or image."""
    out = subprocess.run(["docker", "inspect", name], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)[0]


def containers(*filters: str) -> list[str]:
    """Ids of the containers (running or not) matching ``--filter`` expressions."""
    args = [arg for expression in filters for arg in ("--filter", expression)]
    out = subprocess.run(["docker", "ps", "-aq", *args], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def image_id(name: str) -> str | None:
    """The id of an image, None when there is none of that name."""
    out = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{.Id}}", name], capture_output=True, text=True
    )
    return (out.stdout.strip() or None) if out.returncode == 0 else None


def remove_replaced_images(before: dict[str, str | None]) -> None:
    """The images a rebuild replaced under the same tags: each is a full copy of the virtualenv, so CI runs on one
    machine would otherwise fill its disk. Only ids this run replaced; the layer cache stays."""
    for name, old in before.items():
        if old is not None and old != image_id(name):
            subprocess.run(["docker", "rmi", old], capture_output=True, timeout=300)
