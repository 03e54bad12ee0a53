"""Peak resident memory: of this process (Linux VmHWM, resettable) and of the database server's processes."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator

import psycopg


def _status_kb(pid: int | str, field_name: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def reset_peak_rss() -> bool:
    """Reset this process's peak resident size (Linux: clear_refs 5); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def peak_rss_mb() -> float:
    """This process's peak resident size since start or the last reset, in MiB."""
    peak = _status_kb("self", "VmHWM")
    if peak is None:  # not Linux: the lifetime maximum
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if sys.platform == "darwin":
            peak //= 1024
    return peak / 1024


class ServerMemory:
    """Samples the peak resident size of the database server's processes while a repeat runs.

    Works when the server runs on this machine (the embedded one, or a local server whose processes are
    readable): the postmaster, found as the parent of a backend, and its children. Each process's VmHWM is its
    own lifetime peak.
    """

    def __init__(self, conninfo: str, interval: float = 0.25) -> None:
        self.interval = interval
        self.peak_kb = 0
        self._stop = threading.Event()
        self._postmaster = self._find_postmaster(conninfo)
        self._thread = threading.Thread(target=self._run, name="bench-server-memory", daemon=True)

    @staticmethod
    def _find_postmaster(conninfo: str) -> int | None:
        try:
            with psycopg.connect(conninfo, autocommit=True) as conn:  # the backend lives while connected
                backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
                with open(f"/proc/{backend}/stat", encoding="ascii") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
                with open(f"/proc/{parent}/cmdline", "rb") as cmdline:
                    return parent if b"postgres" in cmdline.read() else None
        except (OSError, psycopg.Error, ValueError, IndexError):
            return None

    @property
    def available(self) -> bool:
        return self._postmaster is not None

    def _processes(self) -> Iterator[int]:
        yield self._postmaster
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat", encoding="ascii") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if parent == self._postmaster:
                yield int(entry.name)

    def sample(self) -> None:
        for pid in self._processes():
            peak = _status_kb(pid, "VmHWM")
            if peak is not None:
                self.peak_kb = max(self.peak_kb, peak)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> ServerMemory:
        if self.available:
            self.sample()
            self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.available:
            self._stop.set()
            self._thread.join()
            self.sample()

    @property
    def peak_mb(self) -> float | None:
        return self.peak_kb / 1024 if self.available else None


def rss_kb() -> int | None:
    """This process's resident size now, in KiB (Linux); None elsewhere."""
    return _status_kb("self", "VmRSS")


class RssTimeline:
    """Samples this process's resident size every ``interval`` seconds while a job runs, so that each step's
    peak can be told apart (VmHWM gives only the whole run's). In-process steps run one after another in
    this process, so the peak of a step's time window is that step's, plus what earlier steps still hold."""

    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-rss-timeline", daemon=True)

    def _sample(self) -> None:
        kb = rss_kb()
        if kb is not None:
            self.samples.append((time.time(), kb))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> RssTimeline:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def peak_mb(self, start: float, end: float) -> float | None:
        """The largest sample between the epoch seconds ``start`` and ``end``, in MiB (None: no sample)."""
        within = [kb for at, kb in self.samples if start <= at <= end]
        return max(within) / 1024 if within else None
