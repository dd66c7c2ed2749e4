"""The report's files published as one unit, like the export's runs (common.runs).

Layout, for out_dir = reports:
    reports/latency_report-runs/<run_id>/latency_report.{json,md,html}   one folder per report
    reports/latency_report -> latency_report-runs/<run_id>                swapped with one os.replace
    reports/latency_report.json -> latency_report/latency_report.json     fixed links, made once
A reader of reports/latency_report.json, .md or .html always sees the three files of one run:
a full disk or a crash while writing leaves the previous report whole. The two newest reports
are kept, so a reader that opened the previous one can finish.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from common import runs
from common.errors import UserError
from common.files import ensure_writable_dir

LINK = "latency_report"
KEEP = 2


def check_out_dir(out_dir: Path, names: Iterable[str]) -> None:
    """Refuse, with one UserError, a report folder this cannot publish `names` into: unwritable, a
    real file or folder where the `latency_report` link or its runs folder goes, or a folder where
    one of the fixed links goes (a plain file there is an older layout's report: it is replaced)."""
    ensure_writable_dir(out_dir, "report")
    link = out_dir / LINK
    if link.exists() and not link.is_symlink():
        raise UserError(f"{link} is a real {'folder' if link.is_dir() else 'file'}, not this tool's link to "
                        f"{runs.runs_dir(link)}/<run_id>; move it away or pass another --out-dir")
    if runs.runs_dir(link).exists() and not runs.runs_dir(link).is_dir():
        raise UserError(f"{runs.runs_dir(link)} is a file where the report's runs folder goes; "
                        f"move it away or pass another --out-dir")
    for name in names:
        if (out_dir / name).is_dir() and not (out_dir / name).is_symlink():
            raise UserError(f"{out_dir / name} is a folder where the report's link to {LINK}/{name} goes; "
                            f"move it away or pass another --out-dir")


def publish(out_dir: Path, texts: dict[str, str]) -> list[Path]:
    """Write `texts` (file name -> content) into a fresh run folder, then swap it in; the paths
    returned are the fixed links in `out_dir`."""
    check_out_dir(out_dir, texts)
    link = out_dir / LINK
    run = runs.start(link, "report")
    try:
        for name, text in texts.items():
            with open(run / name, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            (run / name).chmod(0o644)  # reports are meant to be read and served
        runs.publish(link, run, KEEP)
    except BaseException as e:
        runs.abandon(run)
        if isinstance(e, OSError):
            raise UserError(f"cannot write the report in {out_dir} ({e.strerror}); the previous report is "
                            f"unchanged: free space or choose another --out-dir") from None
        raise
    return [_fixed_link(out_dir, name) for name in texts]


def _fixed_link(out_dir: Path, name: str) -> Path:
    """out_dir/name -> latency_report/name, made once; a plain file of an older layout is replaced
    by the link in one rename."""
    path = out_dir / name
    target = f"{LINK}/{name}"
    if not (path.is_symlink() and os.readlink(path) == target):
        tmp = out_dir / f".{name}.link.tmp"
        tmp.unlink(missing_ok=True)
        os.symlink(target, tmp)
        os.replace(tmp, path)
    return path
