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

from common import runs
from common.errors import UserError
from common.files import ensure_writable_dir

LINK = "latency_report"
KEEP = 2


def publish(out_dir: Path, texts: dict[str, str]) -> list[Path]:
    """Write `texts` (file name -> content) into a fresh run folder, then swap it in; the paths
    returned are the fixed links in `out_dir`."""
    ensure_writable_dir(out_dir, "report")
    link = out_dir / LINK
    if link.exists() and not link.is_symlink():
        raise UserError(f"{link} is a real folder, not this tool's link to {runs.runs_dir(link)}/<run_id>; "
                        f"move it away or pass another --out-dir")
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
