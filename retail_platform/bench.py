"""``retail-platform bench``: how fast the platform ingests and builds, against what PostgreSQL itself can take.

A benchmark, not a test: it prints measurements and asserts nothing. One run generates ``rows`` invoice lines
(``sample_data.write_sample``, CSV) and then, ``repeat`` times, each time in fresh scratch databases on the
configured warehouse server (never in the warehouse database itself):

(a) ``copy``: a bare ``COPY ... FROM STDIN (FORMAT csv, HEADER)`` of the same CSV bytes into a fresh unlogged
    table of the eight columns with the warehouse's types: the physical reference on this machine;
(b) ``load``: the platform's load of that file (``load_file``: digest, reading, typing, line identity,
    exactly-once insert, ledger), into an empty warehouse;
(c) ``redrop``: the same file dropped again under another name (nothing new to load);
(d) ``graph``: the whole asset graph (``full_refresh_job``: load, clean layer, every mart, charts, checks), in
    process, on a second fresh database, with the time of every step;
(e) the peak resident memory of the process doing the work (each repeat runs in a fresh process, as each
    ``retail-platform run`` does, which loads and runs the job in process) and of the database server's
    processes, when the server runs on this machine.

Times are medians over the repeats; memory is the maximum. Ratios are to (a).
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psycopg

DEFAULT_ROWS = 1_067_371  # the full UCI Online Retail II data set, both sheets
DEFAULT_REPEAT = 3
DEFAULT_SEED = 20091201

# The columns of the CSV the generator writes, with the warehouse's types: the reference COPY's table.
_REFERENCE_TABLE = (
    "CREATE UNLOGGED TABLE bench_copy (invoice_no text, stock_code text, description text, quantity integer, "
    "invoice_date timestamp, unit_price numeric, customer_id integer, country text)"
)
_COPY_BLOCK = 1 << 20


@dataclass
class Repeat:
    """The measurements of one repeat."""

    copy_s: float = 0.0
    load_s: float = 0.0
    redrop_s: float = 0.0
    graph_s: float = 0.0
    steps: dict[str, float] = field(default_factory=dict)
    peak_rss_mb: float = 0.0
    server_peak_rss_mb: float | None = None
    load_status: str = ""
    redrop_status: str = ""
    graph_ok: bool = False


# --- memory ----------------------------------------------------------------------------------------------


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


# --- scratch databases -----------------------------------------------------------------------------------


@contextlib.contextmanager
def migrated_scratch_database(server_url: str, label: str) -> Iterator[str]:
    """A new, migrated database on the warehouse's server, dropped afterwards."""
    from retail_platform.warehouse.connection import engine_for, scratch_database
    from retail_platform.warehouse.migrations import migrate

    with scratch_database(server_url, f"retail_bench_{label}") as url:
        migrate(engine_for(url))
        yield url


# --- the measurements ------------------------------------------------------------------------------------


def settle(url: str) -> None:
    """Write out what earlier steps left in shared buffers before a timed step, so that the server's
    checkpoint of one measurement's data does not slow the next one down (needs the right to CHECKPOINT,
    which the embedded server's user has; elsewhere measurements may carry that noise)."""
    with contextlib.suppress(psycopg.Error), psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")


def time_reference_copy(url: str, path: Path) -> float:
    """(a): bare COPY of the CSV bytes, header included, into a fresh unlogged table of matching columns."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_copy")
        conn.execute(_REFERENCE_TABLE)
        started = time.perf_counter()
        with (
            conn.cursor() as cursor,
            open(path, "rb") as stream,
            cursor.copy("COPY bench_copy FROM STDIN (FORMAT csv, HEADER true)") as copy,
        ):
            while block := stream.read(_COPY_BLOCK):
                copy.write(block)
        seconds = time.perf_counter() - started
        conn.execute("DROP TABLE bench_copy")
    return seconds


def time_load(url: str, path: Path) -> tuple[float, str]:
    from retail_platform.ingestion.loader import load_file
    from retail_platform.warehouse.connection import engine_for

    started = time.perf_counter()
    result = load_file(engine_for(url), path, progress=lambda _message: None)
    return time.perf_counter() - started, result.status


def time_graph(url: str, path: Path, workdir: Path) -> tuple[float, dict[str, float], bool]:
    """(d): full_refresh_job in process, on a temporary Dagster instance, with ``path`` in the landing folder."""
    import dagster as dg

    home = workdir / f"home_{uuid.uuid4().hex[:8]}"
    (home / "landing").mkdir(parents=True)
    _link_or_copy(path, home / "landing" / path.name)
    try:
        from retail_platform.definitions import defs
        from retail_platform.defs.resources import default_resources
        from retail_platform.settings import Settings, retail_paths

        job = defs.resolve_job_def("full_refresh_job")
        (home / "dagster").mkdir()
        (home / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
        with dg.DagsterInstance.local_temp(tempdir=str(home / "dagster")) as instance:
            started = time.perf_counter()
            result = job.execute_in_process(
                run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
                instance=instance,
                resources=default_resources(Settings(paths=retail_paths(home), warehouse_url=url)),
                raise_on_error=False,
            )
            seconds = time.perf_counter() - started
            steps = {
                stat.step_key: (stat.end_time or 0) - (stat.start_time or 0)
                for stat in instance.get_run_step_stats(result.run_id)
            }
        return seconds, steps, result.success
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _link_or_copy(source: Path, target: Path) -> None:
    """The same bytes under another name: a hard link where possible (no copy of a gigabyte file)."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy(source, target)


def run_repeat(server_url: str, path: Path, workdir: Path, progress) -> Repeat:
    from retail_platform.warehouse.connection import engine_for

    repeat = Repeat()
    with ServerMemory(server_url) as server:
        with migrated_scratch_database(server_url, "load") as url:
            settle(url)
            repeat.copy_s = time_reference_copy(url, path)
            progress(f"  (a) bare COPY        {repeat.copy_s:8.2f} s")
            settle(url)
            repeat.load_s, repeat.load_status = time_load(url, path)
            progress(f"  (b) platform load    {repeat.load_s:8.2f} s  ({repeat.load_status})")
            again = workdir / f"again_{path.name}"
            _link_or_copy(path, again)
            settle(url)
            try:
                repeat.redrop_s, repeat.redrop_status = time_load(url, again)
            finally:
                again.unlink(missing_ok=True)
            progress(f"  (c) re-drop          {repeat.redrop_s:8.2f} s  ({repeat.redrop_status})")
            engine_for(url).dispose()
        with migrated_scratch_database(server_url, "graph") as url:
            settle(url)
            repeat.graph_s, repeat.steps, repeat.graph_ok = time_graph(url, path, workdir)
            progress(
                f"  (d) whole graph      {repeat.graph_s:8.2f} s  ({'ok' if repeat.graph_ok else 'FAILED'})"
            )
            engine_for(url).dispose()
    repeat.peak_rss_mb = peak_rss_mb()
    repeat.server_peak_rss_mb = server.peak_mb
    return repeat


# --- summary ---------------------------------------------------------------------------------------------


def summarize(rows: int, repeats: list[Repeat], generate_s: float, warehouse: str) -> dict:
    from retail_platform.definitions import defs

    def median(values: list[float]) -> float:
        return round(statistics.median(values), 3)

    copy_s = median([r.copy_s for r in repeats])
    load_s = median([r.load_s for r in repeats])
    redrop_s = median([r.redrop_s for r in repeats])
    graph_s = median([r.graph_s for r in repeats])
    asset_steps = _asset_step_keys(defs)
    steps: dict[str, list[float]] = {}
    for repeat in repeats:
        for step, seconds in repeat.steps.items():
            steps.setdefault(step, []).append(seconds)
    assets = {step: median(times) for step, times in steps.items() if step in asset_steps}
    checks = {step: median(times) for step, times in steps.items() if step not in asset_steps}
    server_peaks = [r.server_peak_rss_mb for r in repeats if r.server_peak_rss_mb is not None]
    return {
        "rows": rows,
        "repeat": len(repeats),
        "warehouse": warehouse,
        "copy_s": copy_s,
        "load_s": load_s,
        "load_ratio": round(load_s / copy_s, 2) if copy_s else None,
        "redrop_s": redrop_s,
        "redrop_ratio": round(redrop_s / copy_s, 2) if copy_s else None,
        "graph_s": graph_s,
        "graph_ratio": round(graph_s / copy_s, 2) if copy_s else None,
        "peak_rss_mb": round(max(r.peak_rss_mb for r in repeats), 1),
        "server_peak_rss_mb": round(max(server_peaks), 1) if server_peaks else None,
        "assets_s": dict(sorted(assets.items(), key=lambda item: -item[1])),
        "checks_s": round(sum(checks.values()), 3),
        "checks": dict(sorted(checks.items(), key=lambda item: -item[1])),
        "generate_s": round(generate_s, 3),
        "all_ok": all(
            r.graph_ok and r.load_status == "loaded" and r.redrop_status == "duplicate" for r in repeats
        ),
        "runs": [
            {
                "copy_s": round(r.copy_s, 3),
                "load_s": round(r.load_s, 3),
                "redrop_s": round(r.redrop_s, 3),
                "graph_s": round(r.graph_s, 3),
                "peak_rss_mb": round(r.peak_rss_mb, 1),
                "server_peak_rss_mb": None
                if r.server_peak_rss_mb is None
                else round(r.server_peak_rss_mb, 1),
            }
            for r in repeats
        ],
    }


def _asset_step_keys(defs) -> set[str]:
    """The steps that materialize assets (the others run checks only)."""
    return {
        assets_def.op.name
        for assets_def in defs.resolve_asset_graph().assets_defs
        if assets_def.is_executable and assets_def.keys
    }


def format_table(summary: dict) -> str:
    copy_s = summary["copy_s"] or float("nan")

    def line(label: str, seconds: float | None, note: str = "") -> str:
        if seconds is None:
            return f"  {label:<44} {'-':>9}"
        return f"  {label:<44} {seconds:9.2f} s  {seconds / copy_s:7.2f} x COPY  {note}".rstrip()

    out = [
        "=" * 88,
        f"retail-platform bench: {summary['rows']:,} lines, {summary['repeat']} repeat(s), medians; "
        f"warehouse: {summary['warehouse']}",
        "-" * 88,
        line("(a) bare COPY into an unlogged table", summary["copy_s"], "(reference)"),
        line("(b) platform load (empty warehouse)", summary["load_s"]),
        line("(c) re-drop of the same file, other name", summary["redrop_s"]),
        line("(d) whole graph (load, marts, charts, checks)", summary["graph_s"]),
        "      steps of the graph:",
    ]
    for step, seconds in summary["assets_s"].items():
        out.append(line(f"    {step}", seconds))
    out.append(line(f"    {len(summary['checks'])} check steps, in total", summary["checks_s"]))
    server = summary["server_peak_rss_mb"]
    out += [
        "-" * 88,
        f"  (e) peak resident memory: the process doing the work {summary['peak_rss_mb']:,.0f} MiB; "
        + (
            f"database server {server:,.0f} MiB (its largest process)"
            if server is not None
            else "database server not measurable (not on this machine)"
        ),
        f"  sample generation (not timed above): {summary['generate_s']:.1f} s",
        "=" * 88,
    ]
    return "\n".join(out)


def _child(server_url: str, path: str, workdir: str, to_stderr: bool, results) -> None:
    progress = _progress(to_stderr)
    try:
        results.send(("ok", asdict(run_repeat(server_url, Path(path), Path(workdir), progress))))
    except BaseException as error:
        results.send(("error", f"{type(error).__name__}: {error}"))
        raise


def _run_repeat_in_child(server_url: str, path: Path, workdir: Path, to_stderr: bool) -> Repeat:
    """One repeat in a fresh process, as each ``retail-platform run`` is: its memory is its own."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(server_url, str(path), str(workdir), to_stderr, send))
    child.start()
    send.close()
    try:
        status, payload = receive.recv()
    except EOFError:
        status, payload = "error", f"the benchmark process died (exit code {child.exitcode})"
    child.join()
    if status != "ok":
        raise RuntimeError(f"benchmark repeat failed: {payload}")
    return Repeat(**payload)


def _progress(to_stderr: bool):
    if to_stderr:
        return lambda message: print(message, file=sys.stderr, flush=True)
    return lambda message: print(message, flush=True)


def run_bench(
    server_url: str, rows: int, repeat: int, seed: int, workdir: Path | None, to_stderr: bool = False
) -> dict:
    from retail_platform.sample_data import write_sample

    progress = _progress(to_stderr)
    own = workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="retail_bench_")) if own else workdir
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        path = workdir / f"bench_{rows}.csv"
        progress(f"Generating {rows:,} lines into {path} ...")
        started = time.perf_counter()
        write_sample(path, rows, seed)
        generate_s = time.perf_counter() - started
        with psycopg.connect(server_url, autocommit=True) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
        repeats = []
        for number in range(1, repeat + 1):
            progress(f"Repeat {number} of {repeat}:")
            repeats.append(_run_repeat_in_child(server_url, path, workdir, to_stderr))
        return summarize(rows, repeats, generate_s, f"PostgreSQL {version}")
    finally:
        if own:
            shutil.rmtree(workdir, ignore_errors=True)


def main(server_url: str, rows: int, repeat: int, seed: int, as_json: bool, workdir: Path | None) -> int:
    summary = run_bench(server_url, rows, repeat, seed, workdir, to_stderr=as_json)
    if as_json:
        print(json.dumps(summary, indent=2))
    else:
        print(format_table(summary))
    return 0 if summary["all_ok"] else 1
