"""`python -m runtime`: accuracy and latency of every exported artifact -> reports/latency_report.{json,md,html}.

Exit code 0 when every artifact loaded, ran and stayed within the accuracy budget; 1 when
any did not (the report is written either way, so CI can gate on it and still show why).
"""
from __future__ import annotations

import argparse
import sys

from common.config import add_config_flags, config_from_args
from common.errors import run_cli
from common.files import ensure_writable_dir
from runtime.config import QUICK, RuntimeConfig
from runtime.run import build_report, write_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runtime", description=__doc__)
    add_config_flags(parser, RuntimeConfig)
    parser.add_argument("--quick", action="store_true",
                        help="smoke-test counts (" + ", ".join(f"{k}={v}" for k, v in QUICK.items())
                             + ") unless given explicitly; the report's method block says so")
    args = parser.parse_args(argv)
    if args.quick:
        for name, value in QUICK.items():
            if getattr(args, name) is None:
                setattr(args, name, value)
    cfg = config_from_args(RuntimeConfig, "runtime", args)
    ensure_writable_dir(cfg.out_dir, "report")  # before minutes of measuring, not after
    report, samples = build_report(cfg)
    paths = write_report(report, samples, cfg.out_dir)
    for target, rec in report["recommendation"].items():
        if rec and "instructions" in rec:  # arm64: an emulated count, not a latency
            print(f"{target}: recommended {rec['artifact']} via {rec['runtime']}, {rec['instructions']:,} aarch64 "
                  f"instructions per inference at batch 1, 1 thread")
        elif rec:
            ratio = f" = {rec['ratio_to_eager']:.3f}x torch-eager" if rec["ratio_to_eager"] else ""
            print(f"{target}: recommended {rec['artifact']} via {rec['runtime']}, p50 {rec['p50_us']:.1f} us "
                  f"at batch 1, 1 thread{ratio}")
    for line in report.get("baseline", {}).get("regressions", []):
        print(f"regression: {line['artifact']} via {line['runtime']} batch {line['batch']} threads "
              f"{line['threads']}: {line['kind']} {line['detail']}")
    for problem in report["problems"]:
        print(f"problem: {problem}", file=sys.stderr)
    print("report: " + ", ".join(str(p) for p in paths))
    return 1 if report["problems"] else 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
