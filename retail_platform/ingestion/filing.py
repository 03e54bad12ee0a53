"""Filing a processed file away: loaded (and duplicate) files to ``archive/``, rejected ones to ``rejected/``
with a readable ``<name>.error.txt`` report beside them. Names are never overwritten: a clash gets the load id
as a prefix.

**Private folders.** ``archive/`` and ``rejected/`` hold every line of the business's sales, customer ids
included, and the reports quote rejected lines: they are created (and kept) ``0700``, readable by the
platform's user only, whatever the umask. A moved file keeps its own mode (it is the producer's file, and a
rename cannot change it); nobody else can reach it through the private folder. A copy (the archive on another
file system) and a report are written ``0600``.

**A move that cannot happen** (a read-only landing folder, a file someone else moved first) never fails the
load: the load is committed already. It is a one-line warning, and the ledger row says why
(``raw.file_loads.left_in_landing``); the next run recognises the file (``ledger.seen_file``) instead of
loading it again. Never two copies: across file systems the file is copied under a hidden name, renamed into
place, and the copy is removed again when the original cannot be.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
from pathlib import Path

from retail_platform.ingestion.ledger import LoadResult

log = logging.getLogger(__name__)

PRIVATE_FOLDER_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def private_folder(folder: Path) -> Path:
    """``folder``, created if needed, readable and writable by this user only."""
    folder.mkdir(mode=PRIVATE_FOLDER_MODE, parents=True, exist_ok=True)
    if folder.stat().st_mode & 0o777 != PRIVATE_FOLDER_MODE:
        try:
            folder.chmod(PRIVATE_FOLDER_MODE)
        except OSError as error:  # not ours (a shared mount): say so, the load goes on
            log.warning("Cannot make %s private (mode 0700): %s", folder, error)
    return folder


def _free_target(folder: Path, name: str, load_id: int | None) -> Path:
    private_folder(folder)
    target = folder / name
    if os.path.lexists(target):
        target = folder / f"{load_id or 'x'}__{name}"
    return target


def _move(path: Path, target: Path) -> None:
    """Rename, or across file systems copy-rename-delete with at most one copy left standing."""
    try:
        os.rename(path, target)
        return
    except OSError as error:
        if error.errno != errno.EXDEV:
            raise
    if not os.access(path.parent, os.W_OK):  # the original could not be removed: do not copy it at all
        code = errno.EROFS if os.statvfs(path.parent).f_flag & os.ST_RDONLY else errno.EACCES
        raise OSError(code, f"{os.strerror(code)}: cannot remove it from {path.parent}", str(path))
    partial = target.with_name(f".{target.name}.copying")
    if path.is_symlink():
        os.symlink(os.readlink(path), partial)
    else:
        with open(path, "rb") as source:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
            with os.fdopen(fd, "wb") as copy:
                shutil.copyfileobj(source, copy, 1 << 20)
                copy.flush()
                os.fsync(copy.fileno())
        shutil.copystat(path, partial)
        os.chmod(partial, PRIVATE_FILE_MODE)
    os.rename(partial, target)
    try:
        os.unlink(path)
    except OSError:
        os.unlink(target)
        raise


def _write_private(path: Path, content: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as stream:
        stream.write(content)


def file_away(path: Path, result: LoadResult, archive: Path, rejected: Path) -> Path:
    """Move a processed file out of the landing folder; rejected files get an error report beside them.
    Raises OSError when the file cannot be moved (the caller records why: see ``landing``)."""
    if result.ok:
        target = _free_target(archive, path.name, result.load_id)
        _move(path, target)
        return target
    target = _free_target(rejected, path.name, result.load_id)
    _move(path, target)
    _write_private(target.with_name(target.name + ".error.txt"), rejection_report(result, target))
    return target


def move_problem(error: OSError) -> str:
    """One line saying why a file could not be moved."""
    if error.errno == errno.ENOENT:
        return "it was no longer there (another process moved it)"
    return f"{error.strerror or error} [{errno.errorcode.get(error.errno or 0, error.errno)}]"


def rejection_report(result: LoadResult, where: Path) -> str:
    """A report an operator can act on without opening the database."""
    lines = [
        f"File:     {result.file_name}",
        f"Moved to: {where}",
        f"Status:   {result.status} (load id {result.load_id} in raw.file_loads)",
        f"SHA-256:  {result.sha256}",
        f"Size:     {result.size_bytes:,} bytes",
        f"Reason:   {result.error}",
        f"Lines:    read {result.lines_read:,}, loaded {result.lines_loaded:,}, "
        f"already present {result.lines_already_present:,}, rejected {result.lines_rejected:,}",
        "",
        "Nothing from this file was loaded. Fix the file and drop it into the landing folder again.",
    ]
    if result.rejected_samples:
        lines += ["", "First invalid lines (all of them are in raw.rejected_lines):"]
        for sample in result.rejected_samples:
            where_in_file = (
                f"sheet {sample['source_export']!r} " if sample["source_export"] != result.file_name else ""
            )
            lines.append(f"  {where_in_file}row {sample['source_row']}: {sample['reason']}")
            lines.append(f"      {sample['raw_text'][:200]}")
    lines += [
        "",
        "As JSON:",
        json.dumps(
            {k: v for k, v in result.as_dict().items() if k != "rejected_samples"}, default=str, indent=2
        ),
    ]
    return "\n".join(lines) + "\n"
