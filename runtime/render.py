"""`python -m runtime.render REPORT.json`: render latency_report.md and .html again from a report's
JSON, without measuring anything (a template or plot change, or a report copied from another
machine). The three files are published together into --out-dir, as `python -m runtime` does."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from common.errors import UserError, one_line, run_cli
from runtime.report import render
from runtime.report.assemble import READABLE_SCHEMAS, SCHEMA
from runtime.report.publish import publish
from runtime.report.rows import Row
from runtime.run import REPORT_NAMES


def read_report(path: Path) -> dict:
    """A latency_report.json of this schema with every row valid; UserError otherwise."""
    fix = "pass a latency_report.json written by `python -m runtime`"
    try:
        report = json.loads(Path(path).read_bytes())
    except FileNotFoundError:
        raise UserError(f"report {path} not found; {fix}") from None
    except (OSError, ValueError, RecursionError) as e:
        raise UserError(f"report {path} is not valid JSON ({one_line(e)[:120]}); {fix}") from None
    if not isinstance(report, dict) or report.get("schema") != SCHEMA:
        found = report.get("schema") if isinstance(report, dict) else None
        older = " (an older schema: measure again with `python -m runtime`)" if found in READABLE_SCHEMAS else ""
        raise UserError(f"report {path} is not a {SCHEMA} report{older}; {fix}")
    for i, row in enumerate(report.get("rows") or []):
        Row.from_dict(row, f"report {path}: rows[{i}]")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runtime.render", description=__doc__)
    parser.add_argument("report", type=Path, help="a latency_report.json")
    parser.add_argument("--out-dir", type=Path, default=None,
                        help="where the three files are published (default: the folder REPORT.json is listed in)")
    args = parser.parse_args(argv)
    report = read_report(args.report)
    out_dir = args.out_dir or args.report.parent
    paths = publish(out_dir, dict(zip(REPORT_NAMES, render.render_all(report))))
    print("report: " + ", ".join(str(p) for p in paths))
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
