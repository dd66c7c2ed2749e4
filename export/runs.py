"""Run folders: every export run writes into a fresh folder; `artifacts` is a symlink to the last one.

Layout, for out_dir = artifacts:
    artifacts-runs/<run_id>/   one folder per run (manifest.json, test_vectors.json, artifacts)
    artifacts -> artifacts-runs/<run_id>    relative symlink, swapped atomically (os.replace)
Runs never mix: a run only writes into its own new folder, and readers following `artifacts`
see either the previous finished run or the new finished one, never a half-written one.
A real (non-symlink) `artifacts` folder with files in it is refused: it could be another run's.
"""
from __future__ import annotations

import datetime
import os
import secrets
import shutil
from pathlib import Path

from common.errors import UserError
from common.files import ensure_writable_dir


def new_run_id() -> str:
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{secrets.token_hex(3)}"


def runs_dir(out_dir: Path) -> Path:
    return out_dir.parent / f"{out_dir.name}-runs"


def check_out_dir(out_dir: Path) -> None:
    """Refuse, before any work, an output folder that is not ours to replace."""
    if out_dir.is_symlink() or not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise UserError(f"output path {out_dir} is a file, not a folder; remove it or pass another --out-dir")
    if any(out_dir.iterdir()):
        raise UserError(f"output folder {out_dir} holds files from another run (it is a real folder, not this "
                        f"tool's symlink to {runs_dir(out_dir)}/<run_id>); move it away or pass another --out-dir")


def start(out_dir: Path, run_id: str) -> Path:
    check_out_dir(out_dir)
    run = runs_dir(out_dir) / run_id
    ensure_writable_dir(run.parent, "export runs")
    run.mkdir()  # fails if it exists: a run id is never reused
    return run


def publish(out_dir: Path, run: Path, keep: int) -> None:
    """Point out_dir at `run` atomically, then delete all but the newest `keep` runs."""
    check_out_dir(out_dir)
    if out_dir.exists() and not out_dir.is_symlink():
        out_dir.rmdir()  # empty real folder (checked above), e.g. made by hand
    tmp = out_dir.parent / f".{out_dir.name}.{run.name}.tmp"
    os.symlink(os.path.relpath(run, out_dir.parent), tmp)
    os.replace(tmp, out_dir)
    # Only finished runs (manifest.json is written last) are candidates: a concurrent run that is
    # still writing its folder is never deleted under it.
    runs = sorted(p for p in run.parent.iterdir() if (p / "manifest.json").is_file())
    for old in runs[:-keep] if keep > 0 else []:
        if old != run:
            shutil.rmtree(old, ignore_errors=True)
