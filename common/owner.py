"""Ownership of output folders: a command replaces or deletes only a folder it wrote itself.

A command that makes a folder it will later replace (the demo folders of `export.embed`, the run
folders of common/runs.py) writes MARKER into it last: the owner's name and every path it wrote.
Before replacing or deleting such a folder, the command asks `problem()`: a folder that has no
marker, has another owner's, or holds a path its marker does not list (a user's file, another
tool's output) is left alone, and the command stops with one line (`check_replaceable`). An absent
or empty folder holds nothing to lose and may be replaced.

    mark(folder, owner) -> None
    problem(folder, owner) -> str | None
    check_replaceable(folder, owner, fix) -> None     # raises UserError
"""
from __future__ import annotations

import json
from pathlib import Path

from common.errors import UserError
from common.files import atomic_write_json

MARKER = ".mnist-deploy-owner.json"  # a dot file: aapt leaves it out of the APK's assets
SHOWN = 3  # foreign paths named in a refusal


def _listing(folder: Path) -> set[str]:
    """Every path under `folder` (files, folders, links), relative, except the marker itself."""
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")} - {MARKER}


def mark(folder: Path, owner: str, skip: tuple[str, ...] = ()) -> None:
    """Record `owner` and every path now in `folder` but `skip` (call it after the folder's last write)."""
    folder = Path(folder)
    atomic_write_json(folder / MARKER, {"owner": owner, "paths": sorted(_listing(folder) - set(skip))})
    (folder / MARKER).chmod(0o644)


def _read(folder: Path) -> dict | None:
    try:
        marker = json.loads((folder / MARKER).read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    ok = isinstance(marker, dict) and isinstance(marker.get("owner"), str) and isinstance(marker.get("paths"), list)
    return marker if ok else None


def problem(folder: Path, owner: str) -> str | None:
    """Why replacing `folder` would lose something that is not `owner`'s; None when nothing would be."""
    folder = Path(folder)
    if folder.is_symlink():
        return "it is a symbolic link, not a folder this tool made"
    if not folder.exists():
        return None
    if not folder.is_dir():
        return "it is a file, not a folder"
    present = _listing(folder)
    if not present and not (folder / MARKER).exists():
        return None
    marker = _read(folder)
    if marker is None:
        return f"it holds {_names(present)} and no {MARKER} of {owner}'s"
    if marker["owner"] != owner:
        return f"it belongs to {marker['owner']} (its {MARKER} says so)"
    foreign = present - set(marker["paths"])
    if foreign:
        return f"it holds {_names(foreign)} that {owner} did not write"
    return None


def _names(paths: set[str]) -> str:
    shown = sorted(paths)[:SHOWN]
    more = f" and {len(paths) - SHOWN} more" if len(paths) > SHOWN else ""
    return ", ".join(shown) + more


def check_replaceable(folder: Path, owner: str, fix: str) -> None:
    """Raise UserError, one line naming the folder, why and `fix`, unless `problem()` finds nothing."""
    why = problem(folder, owner)
    if why:
        raise UserError(f"refusing to replace {folder}: {why}; {fix}")
