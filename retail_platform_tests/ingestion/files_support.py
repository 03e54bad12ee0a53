"""Helpers of the file-system fault tests (issue 13): the loader in a child process (as a user without root's
read override, in a mount namespace with a read-only landing folder, killed with SIGKILL at a chosen point),
and drops of good files whose every line is known."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from retail_platform.sample_data import write_sample
from retail_platform.settings import RetailPaths

REPO = Path(__file__).resolve().parents[2]

# The loader of one drop, in a child: prints the results as JSON on its last line.
LOAD_DROP = """
import json, os, sys
from pathlib import Path
from retail_platform.ingestion.landing import load_landing
from retail_platform.warehouse.connection import engine_for
messages = []
results = load_landing(
    engine_for(os.environ["TEST_URL"]), Path(os.environ["TEST_LANDING"]), Path(os.environ["TEST_ARCHIVE"]),
    Path(os.environ["TEST_REJECTED"]), settle_seconds=0, progress=messages.append,
)
print(json.dumps({"results": [r.as_dict() for r in results], "messages": messages}, default=str))
"""

# The same, as a user without root's read override: the warehouse connections are opened first (the embedded
# server's socket folder belongs to its own system user), then the main thread drops CAP_DAC_OVERRIDE and
# CAP_DAC_READ_SEARCH with capset(2); the threads it starts later (the digest) inherit that. A chmod 000 file
# then fails to open with EACCES from the kernel, as it does for any other user.
LOAD_DROP_WITHOUT_READ_OVERRIDE = (
    """
import ctypes, os
from retail_platform.warehouse.connection import engine_for
engine = engine_for(os.environ["TEST_URL"])
warm = [engine.connect() for _ in range(4)]
for conn in warm:
    conn.close()
if os.geteuid() == 0:
    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]
    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]
    libc = ctypes.CDLL(None, use_errno=True)
    header, data = Header(0x20080522, 0), (Data * 2)()
    assert libc.capget(ctypes.byref(header), data) == 0
    keep = ~((1 << 1) | (1 << 2)) & 0xFFFFFFFF  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
    for field in ("effective", "permitted", "inheritable"):
        setattr(data[0], field, getattr(data[0], field) & keep)
    assert libc.capset(ctypes.byref(header), data) == 0, ctypes.get_errno()
    try:
        open(os.environ["TEST_PROBE"]).close()
        raise SystemExit("the read override is still there")
    except PermissionError:
        pass
"""
    + LOAD_DROP
)

WITHOUT_READ_OVERRIDE = [
    "setpriv",
    "--inh-caps=-dac_override,-dac_read_search",
    "--bounding-set=-dac_override,-dac_read_search",
]


def child_env(url: str, paths: RetailPaths) -> dict[str, str]:
    return {
        **os.environ,
        "TEST_URL": url,
        "TEST_LANDING": str(paths.landing),
        "TEST_ARCHIVE": str(paths.archive),
        "TEST_REJECTED": str(paths.rejected),
        "PYTHONPATH": str(REPO),
    }


def run_child(
    code: str, env: dict[str, str], prefix: list[str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess:
    """``code`` in a fresh interpreter of this venv (after ``prefix``, e.g. setpriv), from the repository."""
    return subprocess.run(
        [*(prefix or []), sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def child_output(done: subprocess.CompletedProcess) -> dict:
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def without_read_override_prefix() -> list[str]:
    """A prefix running a child without the capabilities that let root read a ``chmod 000`` file (what a
    non-root user is), or nothing when the tests do not run as root; skips when neither is possible."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot drop the read override")
    return WITHOUT_READ_OVERRIDE


def read_only_mount_prefix(folder: Path) -> list[str]:
    """A prefix running a child in a mount namespace of its own where ``folder`` is a read-only bind mount of
    itself (EROFS, as a read-only share); skips where mount namespaces are not allowed."""
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if shutil.which("unshare") is None or probe.returncode != 0:
        pytest.skip("no mount namespaces here (unshare -m): cannot make a read-only folder")
    script = f'mount --bind "{folder}" "{folder}" && mount -o remount,bind,ro "{folder}" && exec "$@"'
    return ["unshare", "-m", "sh", "-c", script, "sh"]


def good_drop(paths: RetailPaths, names: list[str], rows: int = 300) -> dict[str, int]:
    """Good sample files (different seeds, so different lines) with old modification times; lines per file."""
    written = {}
    for offset, name in enumerate(names):
        path = paths.landing / name
        written[name] = write_sample(path, rows, seed=1000 + offset)
        os.utime(path, (1_000_000 + offset, 1_000_000 + offset))
    return written
