"""Run folders published by one symlink swap: the export's artifacts and the report's files.

Layout, for a link `<parent>/<name>`:
    <parent>/<name>-runs/<run_id>/        one folder per run; a run writes only into its own
    <parent>/<name> -> <name>-runs/<run_id>   relative symlink, swapped with one os.replace
Readers that follow the link see the previous finished run or the new one, never a mix.

A run folder being written holds `.writing`, locked (flock) by its writer for as long as it
runs: the kernel drops the lock when the writer dies, even by SIGKILL, so `clean` can tell a
live concurrent run (never touched) from a killed one (deleted). `<name>-runs/.lock` serializes
starting, publishing and cleaning, so two publishes that interleave never leave the link
pointing at a folder the other one deleted. Killed runs' folders are deleted when the next run
starts (a crash on a full disk must not keep the disk full) and when a run is published.

A published run folder holds common/owner.py's marker, listing what the run wrote: `clean`
deletes only folders that are its own and hold nothing else, so a folder a user put in
`<name>-runs/`, or a file added to an old run, is never deleted.
"""
from __future__ import annotations

import contextlib
import datetime
import fcntl
import os
import secrets
import shutil
from pathlib import Path
from typing import Iterator

from common import owner
from common.errors import DISK_ERRORS, UserError, disk_full

__all__ = ["DISK_ERRORS", "WRITING", "abandon", "clean", "disk_full", "new_run_id", "owner_of", "prune_killed",
           "publish", "runs_dir", "start"]

WRITING = ".writing"  # present (and flock-ed by a live writer) while a run folder is unfinished
_held: dict[Path, int] = {}  # run folder -> the open, locked fd of its .writing file


def new_run_id() -> str:
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
    return f"{stamp}-{secrets.token_hex(3)}"


def runs_dir(link: Path) -> Path:
    return link.parent / f"{link.name}-runs"


def owner_of(link: Path) -> str:
    """The owner recorded in the marker of `link`'s run folders (common/owner.py)."""
    return runs_dir(link).name


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
    """A fresh run folder for `link`, marked unfinished, after deleting killed runs' folders."""
    runs = runs_dir(link)
    try:
        runs.mkdir(parents=True, exist_ok=True)
        with _locked(runs):
            _prune_killed(runs)
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
        owner.mark(run, owner_of(link), skip=(WRITING,))
        (run / WRITING).unlink()
        tmp = link.parent / f".{link.name}.{run.name}.tmp"
        os.symlink(os.path.relpath(run, link.parent), tmp)
        os.replace(tmp, link)
        _release(run)
        clean(link, keep)


def clean(link: Path, keep: int) -> None:
    """Delete the run folders of killed writers, and finished runs beyond the newest `keep`
    (0: keep every finished run). The folder `link` points at, live writers' and folders that
    are not wholly this link's runs (owner.problem) are never touched. The caller holds the runs lock."""
    runs = runs_dir(link)
    _prune_killed(runs)
    current = link.resolve() if link.is_symlink() else None
    finished = [folder for folder in sorted(p for p in runs.iterdir() if p.is_dir() and not p.is_symlink())
                if folder.resolve() != current and not (folder / WRITING).exists()
                and (folder / owner.MARKER).exists() and owner.problem(folder, owner_of(link)) is None]
    excess = len(finished) + (current is not None) - keep
    for old in finished[:max(excess, 0)] if keep > 0 else []:
        shutil.rmtree(old, ignore_errors=True)


def prune_killed(link: Path) -> None:
    """Delete the folders of `link`'s killed runs now: before a free-space check, their files must
    not count (a run killed on a full disk leaves the disk full)."""
    runs = runs_dir(link)
    if runs.is_dir():
        with _locked(runs):
            _prune_killed(runs)


def _prune_killed(runs: Path) -> None:
    """Delete the folders of runs whose writer died (its .writing lock is free). The caller holds the runs lock."""
    for folder in runs.iterdir():
        if folder.is_dir() and not folder.is_symlink() and (folder / WRITING).exists() and not _writer_alive(folder):
            shutil.rmtree(folder, ignore_errors=True)


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
