"""When is a landing file ready to load? The pure part of the file-drop sensor: a scan of the folder against
what the previous tick saw (the cursor), with no Dagster in it, so it can be tested with a controlled clock.

Two producer conventions are supported:

1. *Write under a temporary name, then rename*: names matching ``is_temporary`` are never loaded, however long
   they stay. After the rename the file is ready at once when the scan had seen it under its temporary name
   (same inode), else on the next scan.
2. *Write in place*: a file is ready once its size and modification time have stayed the same across two
   scans at least ``settle_seconds`` apart (an empty file waits ``EMPTY_FILE_SETTLE_SECONDS``).

Only regular files are read. Anything else in the folder (a symbolic link, which may point anywhere, even if
it resolves inside; a FIFO, which would block its reader; a socket or device; a directory named like a drop) is
listed with its kind (``Entry.refusal``) so that it gets a ledger row with the reason and is moved to
``rejected/`` without being opened. Entries are examined with ``lstat``: links are never followed.

The cursor holds what the scan saw of each file still in the folder (size, mtime, inode, when first seen with
that signature, and its sha256 once computed), not a high-water mark of modification times: a file copied in
with an old mtime (``cp -p``, ``rsync -t``, an unzip) is as visible as a new one.
"""

from __future__ import annotations

import json
import os
import stat as stat_module
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

EMPTY_FILE_SETTLE_SECONDS = 60.0
FIRST_SIGHT_AGE_SECONDS = 60.0  # a file first seen with an mtime this old is ready at once (scan_landing)

# Names a producer is still writing (write under a temporary name, then rename), and hidden or lock files.
TEMP_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".filepart")
TEMP_PREFIXES = (".", "~$")


def is_temporary(name: str) -> bool:
    """A name that is never loaded: still being written, hidden, or an office lock file."""
    return name.startswith(TEMP_PREFIXES) or name.endswith(TEMP_SUFFIXES)


# --- what is in the folder, by lstat -------------------------------------------------------------------------

DROP_SUFFIXES = (".csv", ".csv.gz", ".xlsx", ".parquet")  # readers.SUPPORTED_SUFFIXES

_REFUSALS = {
    "symbolic link": "symbolic link, not loaded: only regular files in the landing folder are read, and a link "
    "may point anywhere (its target was not opened)",
    "directory": "a directory, not a file: not loaded",
    "FIFO": "a FIFO (named pipe), not a regular file: not loaded (never opened, a reader would wait forever)",
    "socket": "a socket, not a regular file: not loaded",
    "device": "a device file, not a regular file: not loaded (never opened)",
}


def entry_kind(mode: int) -> str:
    """What an lstat mode is: ``file`` for a regular file, else a word for the refusal."""
    if stat_module.S_ISREG(mode):
        return "file"
    if stat_module.S_ISLNK(mode):
        return "symbolic link"
    if stat_module.S_ISDIR(mode):
        return "directory"
    if stat_module.S_ISFIFO(mode):
        return "FIFO"
    if stat_module.S_ISSOCK(mode):
        return "socket"
    return "device"


@dataclass(frozen=True)
class Entry:
    """One entry of the landing folder as ``lstat`` saw it (a link is described, not followed)."""

    name: str
    path: Path
    kind: str
    size: int
    mtime_ns: int
    inode: int
    device: int

    @property
    def identity(self) -> str:
        """Which file this is on disk: the same after a failed move, different once rewritten or replaced."""
        return f"{self.device}:{self.inode}:{self.size}:{self.mtime_ns}"

    @property
    def refusal(self) -> str | None:
        """Why the entry is not read (None for a regular file)."""
        return None if self.kind == "file" else _REFUSALS[self.kind]


def lstat_entry(path: Path) -> Entry | None:
    """The entry at ``path`` without following a link; None when it is gone."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    return Entry(
        path.name, path, entry_kind(info.st_mode), info.st_size, info.st_mtime_ns, info.st_ino, info.st_dev
    )


def listed(name: str, kind: str) -> bool:
    """Whether the loader deals with an entry: every regular file and every link, FIFO, socket or device (to
    record it), but a directory only when it is named like a drop (other subfolders are the user's)."""
    if is_temporary(name):
        return False
    return kind != "directory" or name.lower().endswith(DROP_SUFFIXES)


def landing_entries(landing: Path) -> list[Entry]:
    """The entries of the landing folder the loader deals with, oldest first; nothing is opened."""
    if not landing.is_dir():
        return []
    entries = []
    for name in os.listdir(landing):
        entry = lstat_entry(landing / name)
        if entry is not None and listed(entry.name, entry.kind):
            entries.append(entry)
    return sorted(entries, key=lambda entry: (entry.mtime_ns, entry.name))


# --- the cursor ----------------------------------------------------------------------------------------------


@dataclass
class Seen:
    """A file as the sensor last saw it; ``since`` is when it was first seen with this size, mtime and inode."""

    size: int
    mtime_ns: int
    inode: int
    since: float
    sha256: str | None = None

    def same_file(self, size: int, mtime_ns: int, inode: int) -> bool:
        return (self.size, self.mtime_ns, self.inode) == (size, mtime_ns, inode)


@dataclass
class Cursor:
    files: dict[str, Seen] = field(default_factory=dict)
    # inode -> [temporary name, size], as seen on the last tick
    temporaries: dict[str, list] = field(default_factory=dict)

    VERSION = 1

    def dumps(self) -> str:
        return json.dumps(
            {
                "v": self.VERSION,
                "files": {name: asdict(seen) for name, seen in self.files.items()},
                "temporaries": self.temporaries,
            },
            separators=(",", ":"),
        )

    @classmethod
    def loads(cls, text: str | None) -> Cursor:
        """A cursor from its JSON; anything unreadable (an older format) starts afresh."""
        if not text:
            return cls()
        try:
            data = json.loads(text)
            if data.get("v") != cls.VERSION:
                return cls()
            return cls(
                files={name: Seen(**seen) for name, seen in data.get("files", {}).items()},
                temporaries=dict(data.get("temporaries", {})),
            )
        except (ValueError, TypeError, AttributeError):
            return cls()


@dataclass(frozen=True)
class Candidate:
    name: str
    path: Path
    size: int
    mtime_ns: int
    inode: int
    renamed_from: str | None = None
    kind: str = "file"  # anything else is ready at once: it is recorded and moved away, never read


@dataclass
class Scan:
    ready: list[Candidate] = field(default_factory=list)
    settling: list[tuple[str, float]] = field(default_factory=list)  # name, seconds left
    writing: list[str] = field(default_factory=list)  # temporary names
    missing_folder: bool = False
    unreadable_folder: str | None = None  # why the folder cannot be listed


def scan_landing(landing: Path, cursor: Cursor, now: float, settle_seconds: float) -> tuple[Scan, Cursor]:
    """Which files are ready, which are still settling or being written; and the next cursor."""
    scan = Scan()
    new = Cursor()
    if not landing.is_dir():
        scan.missing_folder = True
        return scan, new
    try:
        entries = list(os.scandir(landing))
    except OSError as error:  # no permission to list it: said on the tick, never raised
        scan.unreadable_folder = f"{error.strerror or error}"
        return scan, cursor
    for entry in entries:
        try:
            stat = entry.stat(follow_symlinks=False)
        except OSError:  # moved away between listing and stat
            continue
        kind = entry_kind(stat.st_mode)
        if kind != "file":
            if listed(entry.name, kind):
                scan.ready.append(
                    Candidate(entry.name, Path(entry.path), 0, stat.st_mtime_ns, stat.st_ino, kind=kind)
                )
            continue
        if is_temporary(entry.name):
            scan.writing.append(entry.name)
            new.temporaries[str(stat.st_ino)] = [entry.name, stat.st_size]
            continue
        seen = cursor.files.get(entry.name)
        if seen is None or not seen.same_file(stat.st_size, stat.st_mtime_ns, stat.st_ino):
            seen = Seen(stat.st_size, stat.st_mtime_ns, stat.st_ino, since=now)
        new.files[entry.name] = seen
        candidate = Candidate(entry.name, Path(entry.path), stat.st_size, stat.st_mtime_ns, stat.st_ino)
        temporary = cursor.temporaries.get(str(stat.st_ino))
        if (
            temporary
            and not (landing / temporary[0]).exists()
            and stat.st_size > 0
            and temporary[1] <= stat.st_size
        ):
            # Renamed from a temporary name seen on an earlier tick (same inode, the temporary name gone, not
            # smaller): the producer said it is complete.
            scan.ready.append(replace(candidate, renamed_from=temporary[0]))
            continue
        wait = max(settle_seconds, EMPTY_FILE_SETTLE_SECONDS) if stat.st_size == 0 else settle_seconds
        left = seen.since + wait - now
        # First sight of a file last written over a minute ago (moved in, copied with its times, renamed long
        # after it was written): its own mtime shows it quiet, so it is ready on this tick instead of the next.
        # A minute, not the settle window, so that a writer's clock a little behind ours (a network share)
        # cannot make a file being written look quiet; an mtime in the future never passes.
        quiet_at_first_sight = seen.since == now and now - stat.st_mtime_ns / 1e9 >= max(
            wait, FIRST_SIGHT_AGE_SECONDS
        )
        if (seen.since < now and left <= 0) or quiet_at_first_sight:
            scan.ready.append(candidate)
        else:
            scan.settling.append((entry.name, max(left, 0.0)))
    scan.ready.sort(key=lambda c: (c.mtime_ns, c.name))
    scan.writing.sort()
    scan.settling.sort()
    return scan, new


def drop_id(name: str, sha256: str) -> str:
    return f"{name}@{sha256[:16]}"
