"""Running a long-lived server (``dagster dev``, Streamlit) as a child that is always stopped with everything
it started (issue 13, defect 13).

``subprocess.call`` used to run it in this process's group: on Ctrl-C it SIGKILLed ``dagster dev`` alone, whose
webserver, daemon and code servers then ran on as orphans; on SIGTERM this process died at once and left them
all. Now the child leads its own process group, and SIGINT, SIGTERM or SIGHUP to this process are passed to that
group; whatever has not exited after a grace period is killed. The descendants are also tracked by parent
process id (Linux ``/proc``), so one that moved to a session of its own is stopped too.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

GRACE_SECONDS = 20.0  # dagster dev stops its webserver, daemon and code servers within a few seconds
_POLL_SECONDS = 0.5
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

Pid = tuple[int, str]  # a process id with its start time, so that a reused id is never signalled


def _start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # field 22, counted after the command name


def descendants(root: int) -> set[Pid]:
    """Every live process below ``root`` (children, their children...), read from ``/proc``."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[Pid] = set()
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop()
        started = _start_time(pid)
        if started is not None:
            found.add((pid, started))
            todo.extend(children.get(pid, []))
    return found


def _alive(processes: set[Pid]) -> set[Pid]:
    return {(pid, started) for pid, started in processes if _start_time(pid) == started and not _zombie(pid)}


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return False


def _signal(group: int, processes: set[Pid], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, sig)
    for pid, _ in _alive(processes):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def serve(command: list[str], env: dict[str, str], grace: float = GRACE_SECONDS) -> int:
    """Run ``command`` until it exits or this process is told to stop; 0 when stopped by a signal.

    The handlers are installed before the child starts: a command started with SIGINT ignored (``cmd &``
    from a script) would otherwise hand that down, and the servers would ignore the Ctrl-C passed on."""
    requested: list[int] = []
    known: set[Pid] = set()
    started: list[subprocess.Popen] = []

    def stop(signum: int, _frame: object) -> None:
        requested.append(signum)
        if started:  # the first request is passed on; a second (impatient Ctrl-C) kills at once
            passed = signal.SIGINT if signum == signal.SIGINT else signal.SIGTERM
            _signal(started[0].pid, known, passed if len(requested) == 1 else signal.SIGKILL)

    previous = {sig: signal.signal(sig, stop) for sig in _STOP_SIGNALS}
    try:
        child = subprocess.Popen(command, env=env, start_new_session=True)
        started.append(child)
        if requested:  # told to stop while starting it
            _signal(child.pid, known, signal.SIGTERM)
        deadline = None
        while child.poll() is None:
            known |= descendants(child.pid)
            if requested and deadline is None:
                deadline = time.monotonic() + grace
            if deadline is not None and time.monotonic() > deadline:
                _signal(child.pid, known, signal.SIGKILL)
            time.sleep(_POLL_SECONDS)
        code = child.returncode
    finally:
        try:
            if started:  # still handling stop requests: one arriving now must not kill this process
                _stop_leftovers(started[0], known, grace)
        finally:
            _restore_handlers(previous, absorb_one=bool(requested))
    return 0 if requested else code


def _restore_handlers(previous: dict, absorb_one: bool) -> None:
    """Put the previous signal handlers back. ``absorb_one``: this process was told to stop and is on its way
    out, so one more request (Ctrl-C, then `kill PID` a few seconds later) is absorbed instead of turning a
    clean stop into death by signal; the next finds the previous handlers, so a hang can still be stopped."""

    def restore(_signum: int | None = None, _frame: object = None) -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    if not absorb_one:
        restore()
        return
    for sig in previous:
        signal.signal(sig, restore)


def _stop_leftovers(child: subprocess.Popen, known: set[Pid], grace: float) -> None:
    """Whatever the child left behind (its group, its descendants): SIGTERM, then SIGKILL after ``grace``."""
    terminated = False
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        exited = child.poll() is not None
        if exited and not _alive(known) and not _group_alive(child.pid):
            return
        if not terminated and (exited or child.poll() is None):
            _signal(child.pid, known, signal.SIGTERM)
            terminated = True
        time.sleep(_POLL_SECONDS)
    _signal(child.pid, known, signal.SIGKILL)
    child.wait()


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
