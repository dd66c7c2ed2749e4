"""Run folders of the export: every run writes into a fresh folder; `artifacts` is a symlink to the last one.

Layout, for out_dir = artifacts (the machinery is common.runs, shared with the report):
    artifacts-runs/<run_id>/   one folder per run (manifest.json, test_vectors.json, artifacts)
    artifacts -> artifacts-runs/<run_id>    relative symlink, swapped atomically (os.replace)
Runs never mix: a run only writes into its own new folder, and readers following `artifacts`
see either the previous finished run or the new finished one, never a half-written one. Folders
of killed runs are deleted when the next run starts and by the next publish; a concurrent run
that is still alive never is, nor a folder in artifacts-runs/ that holds what no run wrote.
A real (non-symlink) `artifacts` folder with files in it is refused: it could be another run's.
"""
from __future__ import annotations

from pathlib import Path

from common import runs
from common.errors import UserError
from common.runs import abandon, disk_full, new_run_id, prune_killed, runs_dir

__all__ = ["abandon", "check_out_dir", "disk_full", "new_run_id", "prune_killed", "publish", "runs_dir", "start"]


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
    return runs.start(out_dir, "export runs", run_id)


def publish(out_dir: Path, run: Path, keep: int) -> None:
    """Point out_dir at `run` atomically, then delete killed runs and all but the newest `keep` finished ones."""
    check_out_dir(out_dir)
    if out_dir.exists() and not out_dir.is_symlink():
        out_dir.rmdir()  # empty real folder (checked above), e.g. made by hand
    runs.publish(out_dir, run, keep)
