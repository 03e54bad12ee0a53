"""Reading the deployment files the way Docker Compose and Docker read them, for the static and live tests.

No Docker engine is needed: compose interpolation (``${VAR:-default}``, ``${VAR:?error}``, ``$$``), the YAML
merge keys of the file and ``.dockerignore`` matching are reproduced here, closely enough for the files of
this project.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
# The deployed instance and workspace (copied into the images); the top-level dagster.yaml is the checkout's.
DAGSTER_YAML = ROOT / "docker" / "dagster.yaml"
WORKSPACE_YAML = ROOT / "docker" / "workspace.yaml"
LOCAL_DAGSTER_YAML = ROOT / "dagster.yaml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERIGNORE = ROOT / ".dockerignore"
ARTIFACTS = ROOT / "test-artifacts"
# Where the user code image keeps docker/wait_for_postgres.py (the migrate service's first step).
IMAGE_WAIT_SCRIPT = "/opt/dagster/wait_for_postgres.py"

_INTERPOLATION = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


class MissingVariable(KeyError):
    """A ``${VAR:?message}`` whose variable is unset or empty."""


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines of a compose env file (comments and blank lines skipped)."""
    values: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: not KEY=VALUE: {raw!r}"
        values[key.strip()] = value.strip().strip("'\"")
    return values


def interpolate_text(text: str, env: Mapping[str, str]) -> str:
    """Compose's interpolation of one string."""

    def replace(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["name"] or match["bare"]
        op, arg = match["op"], match["arg"] or ""
        value = env.get(name)
        unset_or_empty = value is None or (value == "" and op is not None and op.startswith(":"))
        if op in (":-", "-"):
            return arg if unset_or_empty else value
        if op in (":?", "?"):
            if unset_or_empty:
                raise MissingVariable(name)
            return value
        return value or ""

    return _INTERPOLATION.sub(replace, text)


def interpolate(node: Any, env: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate_text(node, env)
    if isinstance(node, list):
        return [interpolate(item, env) for item in node]
    if isinstance(node, dict):
        return {key: interpolate(value, env) for key, value in node.items()}
    return node


def raw_compose() -> dict[str, Any]:
    """The compose file as YAML (merge keys and anchors resolved, variables not)."""
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def required_variables(node: Any) -> set[str]:
    """Names used as ``${NAME:?...}``: compose refuses to start without them."""
    if isinstance(node, str):
        return {match["name"] for match in _INTERPOLATION.finditer(node) if match["op"] in (":?", "?")}
    values = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
    return set().union(*(required_variables(value) for value in values))


def compose(env: Mapping[str, str]) -> dict[str, Any]:
    """The compose file as ``docker compose config`` would see it with this environment."""
    return interpolate(raw_compose(), env)


def service_env(service: Mapping[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) if "=" in item else (item, "") for item in environment)
    return {key: "" if value is None else str(value) for key, value in environment.items()}


def option(command: list[str], *flags: str) -> str:
    """The value after ``-p``/``--port`` style flags in a command list."""
    for index, token in enumerate(command):
        if token in flags:
            return command[index + 1]
    raise AssertionError(f"none of {flags} in {command}")


def replace_option(command: list[str], flags: tuple[str, ...], value: str) -> list[str]:
    result = list(command)
    for index, token in enumerate(result):
        if token in flags:
            result[index + 1] = value
            return result
    raise AssertionError(f"none of {flags} in {command}")


def env_references(node: Any) -> set[str]:
    """Environment variable names a Dagster config file reads (``{env: NAME}``)."""
    found: set[str] = set()
    if isinstance(node, dict):
        if set(node) == {"env"} and isinstance(node["env"], str):
            found.add(node["env"])
        for value in node.values():
            found |= env_references(value)
    elif isinstance(node, list):
        for value in node:
            found |= env_references(value)
    return found


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# --- .dockerignore ------------------------------------------------------------------------------------------------


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**", index):
            out.append(".*")
            index += 2
            if index < len(pattern) and pattern[index] == "/":
                out[-1] = "(?:.*/)?"
                index += 1
            continue
        out.append({"*": "[^/]*", "?": "[^/]"}.get(char, re.escape(char)))
        index += 1
    return re.compile("^" + "".join(out) + "$")


def dockerignore_rules(path: Path = DOCKERIGNORE) -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line[1:] if negate else line
        pattern = pattern.strip().lstrip("/").rstrip("/")
        rules.append((negate, _pattern_regex(pattern)))
    return rules


def in_build_context(relative: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Whether Docker sends this path (relative to the context) to the build, as moby's pattern matcher
    decides: the last rule matching the path or one of its parents wins."""
    parts = relative.strip("/").split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for negate, regex in rules:
        if any(regex.match(candidate) for candidate in candidates):
            excluded = not negate
    return not excluded


def dockerfile_stages(path: Path) -> dict[str, list[str]]:
    """Instructions per build stage (``FROM ... AS name``), continuation lines joined."""
    text = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
    stages: dict[str, list[str]] = {}
    current: list[str] | None = None
    preamble: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = re.match(r"FROM\s+(\S+)(?:\s+AS\s+(\S+))?", line, re.IGNORECASE)
        if match:
            current = stages.setdefault(match[2] or match[1], [])
        (current if current is not None else preamble).append(line)
    stages["__preamble__"] = preamble
    return stages


def dockerfile_arg_defaults(path: Path) -> dict[str, str]:
    """``ARG NAME=default`` values of a Dockerfile, for its ``${NAME}`` references."""
    return dict(re.findall(r"^ARG\s+([A-Za-z_][A-Za-z0-9_]*)=(\S+)\s*$", path.read_text(), re.MULTILINE))
