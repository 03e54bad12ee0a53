"""Where the platform keeps its local state (SPEC §6).

Everything local lives under one folder, ``RETAIL_HOME`` (default ``.retail_platform/`` in the working
directory), so that a checkout can be reset by deleting a single directory and so that the webserver, the
daemon and run workers started from the same place agree on it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOME = ".retail_platform"


@dataclass(frozen=True)
class RetailPaths:
    """The folders the platform reads and writes, all derived from ``RETAIL_HOME``."""

    home: Path
    landing: Path

    @property
    def archive(self) -> Path:
        return self.home / "archive"

    @property
    def rejected(self) -> Path:
        return self.home / "rejected"

    @property
    def charts(self) -> Path:
        return self.home / "charts"

    @property
    def pgdata(self) -> Path:
        return self.home / "pgdata"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    def ensure(self) -> RetailPaths:
        for folder in (self.home, self.landing, self.archive, self.rejected, self.charts, self.dagster_home):
            folder.mkdir(parents=True, exist_ok=True)
        return self


def retail_paths(home: str | os.PathLike[str] | None = None, landing: str | None = None) -> RetailPaths:
    """Resolve the folders from arguments, then the environment, then the defaults."""
    home_path = Path(home or os.environ.get("RETAIL_HOME") or DEFAULT_HOME).expanduser().resolve()
    landing_value = landing or os.environ.get("RETAIL_LANDING_DIR")
    landing_path = Path(landing_value).expanduser().resolve() if landing_value else home_path / "landing"
    return RetailPaths(home=home_path, landing=landing_path)
