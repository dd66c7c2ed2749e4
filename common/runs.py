"""Run folders published by one symlink swap: the export's artifacts and the report's files.

Layout, for a link `<parent>/<name>`:
    <parent>/<name>-runs/<run_id>/        one folder per run; a run writes only into its own
    <parent>/<name> -> <name>-runs/<run_id>   relative symlink, swapped with one os.replace
Readers that follow the link see the previous finished run or the new one, never a mix.

A run folder being written holds `.writing`, locked (flock) by its writer for as long as it
runs: the kernel drops the lock when the writer dies, even by SIGKILL, so `clean` can tell a
live concurrent run (never touched) from a killed one (deleted). `<name>-runs/.lock` serializes
starting, publishing and cleaning, so two publishes that interleave never leave the link
pointing at a folder the other one deleted.
"""
from __future__ import annotations

import contextlib
import datetime
import errno
import fcntl
import os
import secrets
import shutil
from pathlib import Path
from typing import Iterator

from common.errors import UserError

WRITING = ".writing"  # present (and flock-ed by a live writer) while a run folder is unfinished
DISK_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)  # the disk's fault, not the content's
_held: dict[Path, int] = {}  # run folder -> the open, locked fd of its .writing file


def disk_full(e: BaseException) -> bool:
    """Whether `e` (or what caused it) is the disk refusing writes: full, over quota or read-only."""
    while e is not None:
        if isinstance(e, OSError) and e.errno in DISK_ERRORS:
            return True
        e = e.__cause__ or e.__context__
    return False


def new_run_id() -> str:
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
    return f"{stamp}-{secrets.token_hex(3)}"


def runs_dir(link: Path) -> Path:
    return link.parent / f"{link.name}-runs"


@contextlib.contextmanager
def _locked(runs: Path) -> Iterator[None]:
    """Hold `<runs>/.lock` exclusively: one start/publish/clean at a time across processes."""
    fd = os.open(runs / ".lock", os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing drops the lock


def start(link: Path, what: str, run_id: str | None = None) -> Path:
    """A fresh run folder for `link`, marked unfinished (see the module docstring)."""
    runs = runs_dir(link)
    try:
        runs.mkdir(parents=True, exist_ok=True)
        with _locked(runs):
            run = runs / (run_id or new_run_id())
            run.mkdir()  # fails if it exists: a run id is never reused
            fd = os.open(run / WRITING, os.O_CREAT | os.O_RDWR, 0o644)
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, f"{os.getpid()}\n".encode())  # for a human who wonders whose folder it is
            _held[run] = fd
    except OSError as e:
        raise UserError(f"cannot write the {what} folder {runs} ({e.strerror}); free space, fix its "
                        f"permissions or choose another folder") from None
    return run


def abandon(run: Path) -> None:
    """Delete an unfinished run folder of this process (it raised or was interrupted)."""
    shutil.rmtree(run, ignore_errors=True)
    _release(run)


def _release(run: Path) -> None:
    fd = _held.pop(run, None)
    if fd is not None:
        os.close(fd)


def publish(link: Path, run: Path, keep: int) -> None:
    """Mark `run` finished, point `link` at it atomically, then `clean`. Holding the runs lock
    across all three is what keeps interleaved publishes from deleting each other's target."""
    with _locked(run.parent):
        (run / WRITING).unlink()
        tmp = link.parent / f".{link.name}.{run.name}.tmp"
        os.symlink(os.path.relpath(run, link.parent), tmp)
        os.replace(tmp, link)
        _release(run)
        clean(link, keep)


def clean(link: Path, keep: int) -> None:
    """Delete the run folders of killed writers, and finished runs beyond the newest `keep`
    (0: keep every finished run). The folder `link` points at and live writers' are never touched.
    The caller holds the runs lock."""
    runs = runs_dir(link)
    current = link.resolve() if link.is_symlink() else None
    finished = []
    for folder in sorted(p for p in runs.iterdir() if p.is_dir()):
        if (folder / WRITING).exists():
            if not _writer_alive(folder):
                shutil.rmtree(folder, ignore_errors=True)
        elif folder.resolve() != current:
            finished.append(folder)
    excess = len(finished) + (current is not None) - keep
    for old in finished[:max(excess, 0)] if keep > 0 else []:
        shutil.rmtree(old, ignore_errors=True)


def _writer_alive(folder: Path) -> bool:
    """Whether some process still holds the folder's .writing lock (ours included)."""
    if folder in _held:
        return True
    try:
        fd = os.open(folder / WRITING, os.O_RDONLY)
    except FileNotFoundError:
        return False  # finished between the listing and now
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
