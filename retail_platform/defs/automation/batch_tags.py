"""How a batch load run names its files, so that each file keeps a history of its own.

One run of ``load_file_job`` loads many files, but retries are decided per file (``retries.decide`` on the
runs that carried that file). Dagster filters runs by exact tag key and value, so every file of a batch gets a
tag of its own: key ``retail.file/<name made tag-safe>``, value the drop id ``<name>@<sha256[:16]>``. The
value is exact (the full name and the content's digest), the key only has to be readable and valid: Dagster
allows ``[A-Za-z0-9_.-]`` and at most 63 characters after the namespace, so other characters become ``_``
and a long name is cut and suffixed with a digest of the whole name.

The run key of a batch is derived from its files and their attempt numbers, sorted: a daemon that restarts
mid-tick asks for the same batch under the same key (Dagster submits it once), and a file retried or dropped
again has a higher attempt number, so the key is new.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence

FILE_TAG_PREFIX = "retail.file/"
TAG_FILE_COUNT = "retail/landing_files"
TAG_TRIGGER = "retail/trigger"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_MAX_NAME = 63


def file_tag_key(name: str) -> str:
    """The tag key that marks the runs carrying the file ``name``."""
    safe = _UNSAFE.sub("_", name)
    if len(safe) > _MAX_NAME:
        safe = safe[: _MAX_NAME - 17] + "." + hashlib.sha256(name.encode()).hexdigest()[:16]
    return FILE_TAG_PREFIX + safe


def drops_of(tags: Mapping[str, str]) -> list[str]:
    """The drop ids a run carried (from its per-file tags)."""
    return [value for key, value in tags.items() if key.startswith(FILE_TAG_PREFIX)]


def name_of(drop: str) -> str:
    """The file name of a drop id ``<name>@<sha16>``."""
    return drop.rsplit("@", 1)[0]


def batch_run_key(entries: Sequence[tuple[str, int]]) -> str:
    """A run key for (drop id, attempt) pairs: the same batch always gets the same key, any change a new one."""
    text = "\n".join(f"{drop}#{attempt}" for drop, attempt in sorted(entries))
    return f"batch-{len(entries)}-{hashlib.sha256(text.encode()).hexdigest()[:20]}"
