"""`python -m runtime`: accuracy and latency of every exported artifact -> reports/latency_report.{json,md,html}.

Exit codes (README, "Exit codes"):
  0  at least one artifact was measured, every target named with --targets (or `targets` in the
     config file) measured at least one, no row failed and every measured artifact is within
     the accuracy budget;
  1  the report is written but breaks that contract: each reason is one `problem:` line;
  2  bad input (config, manifest, checkpoint, data, device results, baseline, an --artifacts
     pattern that matches nothing, an unwritable output folder or one with a folder where the
     report's links go): one `error:` line, checked before anything is measured, the previous
     report left as it was.
  130, 143  interrupted by Ctrl-C or SIGTERM: child processes and temp folders are removed, the
     previous report is left as it was (INTERRUPTED).
Targets left at the default that this machine cannot measure (cuda without a GPU, android and
browser-wasm without a results file) are `not measured` rows with the reason and do not fail.

By default it measures what the recommendation and the artifact table need (runtime/config.py
FULL says what --full adds; the report names what was left out). Skipped, with one line saying
why, when the report was made from the same settings, manifest, checkpoint, data, device
results, ARM64 set-up, machine, code and library versions (common/stages.py); --force measures again.
"""
from __future__ import annotations

import argparse
import json
import sys

from common import progress, stages
from common.config import add_config_flags, config_from_args, given
from common.errors import run_cli
from runtime.config import FULL, QUICK, RuntimeConfig
from runtime.run import REPORT_LINK, REPORT_NAMES, build_report, check_out_dir, stage_inputs, write_report

# What an interrupted report leaves (Ctrl-C or SIGTERM): its child processes and temp folders are
# gone, and the report files are published only at the end, all three together.
INTERRUPTED = ("no report was written and the previous one is unchanged; "
               "run the command again to measure from the start")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runtime", description=__doc__)
    add_config_flags(parser, RuntimeConfig)
    parser.add_argument("--quick", action="store_true",
                        help="smoke-test counts (" + ", ".join(f"{k}={v}" for k, v in QUICK.items())
                             + ") unless given explicitly; the report's method block says so")
    parser.add_argument("--full", action="store_true",
                        help="the exhaustive matrix (" + ", ".join(f"{k}={v}" for k, v in FULL.items())
                             + ") unless given explicitly; `make bench` runs it")
    parser.add_argument("--force", action="store_true", help="measure even when the report is up to date")
    args = parser.parse_args(argv)
    preset = {**(FULL if args.full else {}), **(QUICK if args.quick else {})}  # --full --quick: every row, quickly
    cfg = config_from_args(RuntimeConfig, "runtime", args, preset=preset or None)
    check_out_dir(cfg.out_dir)  # before minutes of measuring, not after
    required = cfg.targets if "targets" in given(RuntimeConfig, "runtime", args) else ()
    inputs = lambda: stage_inputs(cfg, required)  # noqa: E731 - read inside the stage's lock
    with stages.running("report", cfg.out_dir / REPORT_LINK, inputs, args.force) as stage:
        if stage is None:
            return summarize(json.loads((cfg.out_dir / REPORT_NAMES[0]).read_text()),
                             [cfg.out_dir / name for name in REPORT_NAMES])
        with progress.native_logs_above_bars():
            report = build_report(cfg, required)
        paths = write_report(report, cfg.out_dir)
        if not report["problems"]:
            # a report that breaks the contract is not done; its files, and the links readers open
            stage.done([cfg.out_dir / REPORT_LINK] + [cfg.out_dir / name for name in REPORT_NAMES])
    return summarize(report, paths)


def summarize(report: dict, paths: list) -> int:
    """The report's answer in a few lines; its exit status (see the module docstring)."""
    for key, card in report["recommendation"].items():
        print(summary_line(key, card))
    for line in report.get("baseline", {}).get("regressions", []):
        print(f"regression: {line['artifact']} via {line['runtime']} batch {line['batch']} threads "
              f"{line['threads']}: {line['kind']} {line['detail']}")
    for problem in report["problems"]:
        print(f"problem: {problem}", file=sys.stderr)
    if paths:
        print("report: " + ", ".join(str(p) for p in paths))
    return 1 if report["problems"] else 0


def summary_line(key: str, card: dict) -> str:
    """One line per card: what to ship on that target, or why nothing."""
    if not card["measured"]:
        return f"{key}: not measured: {card['reason']}"
    if card["best"] is None:
        return f"{key}: no recommendation: {card['reason']}"
    best = card["best"]
    if card["metric"] == "instructions":  # arm64: an emulated count, not a latency
        figure = f"{best['value']:,.0f} aarch64 instructions per inference at batch 1, 1 thread"
    else:
        figure = f"p50 {best['value']:.1f} us at batch 1"
        if best["interleaved_ratio"] is not None:  # the figure make bench checks (runtime/compare.py)
            low, high = best["interleaved_ratio_ci95"]
            figure += f", {best['interleaved_ratio']:.3f}x torch-eager interleaved (95% interval {low:.3f}-{high:.3f})"
        elif best["ratio_to_eager"] is not None:
            figure += f", {best['ratio_to_eager']:.3f}x torch-eager"
    return f"{key}: recommended {best['artifact']} via {best['runtime']}, {figure}"


if __name__ == "__main__":
    sys.exit(run_cli(main, interrupted=INTERRUPTED))
