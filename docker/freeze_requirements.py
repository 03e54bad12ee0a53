"""Write docker/requirements.txt: the exact versions of retail-platform's runtime dependencies in the current
environment (the one CI tested), so that the images install what the tests ran.

    .venv/bin/python docker/freeze_requirements.py > docker/requirements.txt
"""

from __future__ import annotations

import sys
from importlib import metadata

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

# Build backend of `pip install --no-build-isolation .` in the image (pyproject: setuptools>=68).
BUILD_PINS = {"setuptools": "80.9.0"}
# The image runs Linux and Python 3.11 whatever machine freezes the list.
TARGET = {**default_environment(), "sys_platform": "linux", "platform_system": "Linux", "os_name": "posix"}


def closure(root: str) -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}

    def walk(name: str, extras: frozenset[str]) -> None:
        dist = metadata.distribution(name)
        found[canonicalize_name(name)] = (dist.metadata["Name"], dist.version)
        for text in dist.requires or []:
            requirement = Requirement(text)
            marker = requirement.marker
            if marker is not None and not any(
                marker.evaluate({**TARGET, "extra": extra}) for extra in ("", *extras)
            ):
                continue
            if canonicalize_name(requirement.name) not in found:
                walk(requirement.name, frozenset(requirement.extras))

    walk(root, frozenset())
    found.pop(canonicalize_name(root))
    return found


def main() -> None:
    pins = {key: f"{name}=={version}" for key, (name, version) in closure("retail-platform").items()}
    pins.update({key: f"{key}=={version}" for key, version in BUILD_PINS.items()})
    print(__doc__.strip().replace("\n", "\n# ").join(["# ", ""]))
    print("# Used with -r by the user code image and with -c (constraints) by the Dagster image.")
    for key in sorted(pins):
        print(pins[key])


if __name__ == "__main__":
    sys.exit(main())
