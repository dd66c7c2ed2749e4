"""`python -m runtime.render REPORT.json`: render latency_report.md and .html again from a report's
JSON, without measuring anything (a template or plot change, or a report copied from another
machine). The three files are published together into the folder the report was published in
(or --out-dir), as `python -m runtime` does; a file that is not a whole latency report of this
schema is one `error:` line and exit 2, and the published report is left as it was."""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from common import runs
from common.errors import UserError, one_line, run_cli
from runtime.report import render
from runtime.report.assemble import READABLE_SCHEMAS, SCHEMA
from runtime.report.publish import LINK, publish
from runtime.report.recommend import Recommendation
from runtime.report.rows import Row
from runtime.run import REPORT_NAMES

FIX = "pass a latency_report.json written by `python -m runtime`"
# What the renderers read (runtime/report/view.py, table.py, details.py, plots.py), by section;
# the schema is docs/report.md.
TOP_LEVEL = {"schema": str, "environment": dict, "method": dict, "config": dict, "manifest": dict, "reference": dict,
             "targets": dict, "rows": list, "recommendation": dict, "artifacts": list, "problems": list,
             "warnings": list}
SECTION_KEYS = {
    "environment": ("cpu_model", "cores", "date_utc", "git_commit", "load_average_1m_5m", "versions",
                    "harness_overhead"),
    "method": ("warmup_calls", "timed_calls_batch_1"),
    "manifest": ("accuracy_budget_pp", "run_id"),
    "reference": ("accuracy", "test_count"),
}
TARGET_KEYS = ("title", "metric", "metric_label", "baseline", "measured", "reason", "how_to_measure", "device")
CARD_KEYS = tuple(f.name for f in dataclasses.fields(Recommendation))
ARTIFACT_KEYS = ("name", "format", "backend", "quantization", "pruning", "status", "reason", "size_bytes",
                 "test_accuracy", "parity")


def read_report(path: Path) -> dict:
    """A latency_report.json of this schema with every section the renderers read; UserError otherwise."""
    try:
        report = json.loads(Path(path).read_bytes())
    except FileNotFoundError:
        raise UserError(f"report {path} not found; {FIX}") from None
    except (OSError, ValueError, RecursionError) as e:
        raise UserError(f"report {path} is not valid JSON ({one_line(e)[:120]}); {FIX}") from None
    if not isinstance(report, dict) or report.get("schema") != SCHEMA:
        found = report.get("schema") if isinstance(report, dict) else None
        older = " (an older schema: measure again with `python -m runtime`)" if found in READABLE_SCHEMAS else ""
        raise UserError(f"report {path} is not a {SCHEMA} report{older}; {FIX}")
    problem = report_problem(report)
    if problem:
        raise UserError(f"report {path}: {problem}; {FIX}")
    for i, row in enumerate(report["rows"]):
        Row.from_dict(row, f"report {path}: rows[{i}]")
    return report


def _lacks(entry, keys) -> str | None:
    if not isinstance(entry, dict):
        return f"is a {type(entry).__name__}, not an object"
    missing = [k for k in keys if k not in entry]
    return f"lacks {', '.join(missing)}" if missing else None


def report_problem(report: dict) -> str | None:
    """What keeps `report` from rendering, or None."""
    for key, kind in TOP_LEVEL.items():
        if not isinstance(report.get(key), kind):
            return f"{key} is missing or not a {kind.__name__}"
    checks = [(name, report[name], keys) for name, keys in SECTION_KEYS.items()]
    checks += [(f"targets[{name!r}]", block, TARGET_KEYS) for name, block in report["targets"].items()]
    checks += [(f"recommendation[{key!r}]", card, CARD_KEYS) for key, card in report["recommendation"].items()]
    checks += [(f"artifacts[{i}]", a, ARTIFACT_KEYS) for i, a in enumerate(report["artifacts"])]
    for where, entry, keys in checks:
        problem = _lacks(entry, keys)
        if problem:
            return f"{where} {problem}"
    unknown = sorted({card["target"] for card in report["recommendation"].values()} - set(report["targets"]))
    return f"recommendation names targets {unknown} that targets does not list" if unknown else None


def report_home(path: Path) -> Path:
    """The --out-dir a report was published into (runtime/report/publish.py's layout), whichever of
    its names was given: reports/latency_report.json, reports/latency_report/latency_report.json or
    reports/latency_report-runs/<run_id>/latency_report.json all live in reports/."""
    run = Path(path).resolve().parent
    runs_folder = runs.runs_dir(Path(LINK)).name
    return run.parent.parent if run.parent.name == runs_folder else Path(path).parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runtime.render", description=__doc__)
    parser.add_argument("report", type=Path, help="a latency_report.json")
    parser.add_argument("--out-dir", type=Path, default=None,
                        help="where the three files are published (default: the folder the report was published in)")
    args = parser.parse_args(argv)
    report = read_report(args.report)
    texts = render.render_all(report)  # rendered before anything is written: a failure changes nothing
    paths = publish(args.out_dir or report_home(args.report), dict(zip(REPORT_NAMES, texts)))
    print("report: " + ", ".join(str(p) for p in paths))
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
