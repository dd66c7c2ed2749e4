"""`python -m tools.bench` (`make bench`): run every stage once, time it, check the issues' targets.

Targets are checked from measurements of this one run, never from a timed test: the machine is
shared and noisy, so speed goals are ratios measured side by side (the latency report measures
torch-eager and every artifact in the same process) or wall times printed with their context.
Outputs go to a scratch folder (default reports/bench/), so the pipeline's own outputs stay.

Targets (issue -> check):
  train   test accuracy >= 98.0% with the default config; `python -m train` <= 180 s wall
  export  every default artifact ok or unsupported, none failed (int8/pruned within budget);
          int8 file <= 27% of the same format+backend fp32 file; structured + int8 <= 15%
  runtime recommended cpu artifact's batch-1, 1-thread p50 <= 0.25 x torch-eager p50 (same run)
  compress (compression search) every ok artifact within the budget on test; smallest ok artifact
          <= 6% of the dense fp32 file of its format+backend; fastest ok cpu artifact at batch 1,
          1 thread <= 0.12 x torch-eager (same run); export, search included, <= 300 s wall
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from common.errors import run_cli
from common.files import atomic_write_json, ensure_writable_dir

STAGE_SECONDS = 180.0
TRAIN_ACCURACY = 0.98
INT8_SIZE, STRUCTURED_INT8_SIZE = 0.27, 0.15
CPU_RATIO = 0.25
EXPORT_SECONDS, SMALLEST_SIZE, FASTEST_RATIO = 300.0, 0.06, 0.12  # the compression search's targets


def timed(cmd: list[str]) -> tuple[int, float]:
    """Run a stage as the user would, in a fresh interpreter; (exit code, wall seconds)."""
    print("$ " + " ".join(cmd), flush=True)
    start = time.perf_counter()
    code = subprocess.run(cmd).returncode
    return code, time.perf_counter() - start


def size_checks(manifest: dict) -> list[dict]:
    """Every ok int8 artifact against the fp32, unpruned artifact of the same format and backend."""
    fp32 = {(a["format"], a["backend"]): a["size_bytes"] for a in manifest["artifacts"]
            if a["status"] == "ok" and a["quantization"] == "none" and a["pruning"] == "none"}
    checks = []
    for a in manifest["artifacts"]:
        key = (a["format"], a["backend"])
        if a["status"] != "ok" or a["quantization"] == "none" or key not in fp32:
            continue
        limit = STRUCTURED_INT8_SIZE if a["pruning"] == "structured" else INT8_SIZE
        ratio = a["size_bytes"] / fp32[key]
        checks.append(check(f"size {a['name']} / fp32", ratio, limit, "<=", f"{ratio:.1%} of {fp32[key]} B"))
    return checks


def compression_checks(manifest: dict, report: dict) -> list[dict]:
    """The compression search's targets, from the manifest and the latency report of this run."""
    ok = [a for a in manifest["artifacts"] if a["status"] == "ok"]
    floor = manifest["reference"]["test_accuracy"] - manifest["accuracy_budget_pp"] / 100 - 1e-9
    outside = [a["name"] for a in ok if a["test_accuracy"] is not None and a["test_accuracy"] < floor]
    fp32 = {(a["format"], a["backend"]): a["size_bytes"] for a in ok
            if a["quantization"] == "none" and a["pruning"] == "none"}
    ratios = {a["name"]: a["size_bytes"] / fp32[(a["format"], a["backend"])] for a in ok
              if (a["format"], a["backend"]) in fp32}
    smallest = min(ratios, key=ratios.get, default=None)
    timed = [r for r in report.get("rows", []) if r["target"] == "cpu" and r["status"] == "ok" and r["batch"] == 1
             and r["threads"] == 1 and r["artifact"] != "checkpoint" and r["ratio_to_eager"] is not None]
    fastest = min(timed, key=lambda r: r["ratio_to_eager"], default=None)
    return [check("ok artifacts outside the budget on test", len(outside), 0, "<=", ", ".join(outside)),
            check("smallest ok artifact / its format's fp32 file", ratios.get(smallest), SMALLEST_SIZE, "<=",
                  f"{smallest}"),
            check("fastest ok cpu artifact p50 / torch-eager p50", fastest and fastest["ratio_to_eager"],
                  FASTEST_RATIO, "<=", f"{fastest and fastest['artifact']} via {fastest and fastest['runtime']}")]


def check(name: str, value: float | None, limit: float, op: str, detail: str = "") -> dict:
    ok = value is not None and (value <= limit if op == "<=" else value >= limit)
    return {"target": name, "value": value, "limit": f"{op} {limit}", "ok": ok, "detail": detail}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out-dir", type=Path, default=Path("reports/bench"), help="scratch folder for this run")
    parser.add_argument("--data-dir", type=Path, default=None, help="dataset root (default: the config's / DATA_DIR)")
    args = parser.parse_args(argv)
    out = ensure_writable_dir(args.out_dir, "benchmark")
    data = ["--data-dir", str(args.data_dir)] if args.data_dir else []
    py = sys.executable
    ckpt_dir, artifacts, reports = out / "checkpoints", out / "artifacts", out / "reports"

    code, train_s = timed([py, "-m", "train", "--out-dir", str(ckpt_dir), "--resume", "false", *data])
    metrics = json.loads((ckpt_dir / "mlp.metrics.json").read_text()) if code == 0 else {}
    code_e, export_s = timed([py, "-m", "export", "--checkpoint", str(ckpt_dir / "mlp.pt"),
                              "--out-dir", str(artifacts), "--keep-runs", "1", *data])
    manifest = json.loads((artifacts / "manifest.json").read_text()) if (artifacts / "manifest.json").exists() else None
    code_r, _ = timed([py, "-m", "runtime", "--manifest", str(artifacts / "manifest.json"),
                       "--checkpoint", str(ckpt_dir / "mlp.pt"), "--out-dir", str(reports),
                       "--targets", "cpu", "--batches", "1", "--threads", "1", "--peak-rss", "false", *data])
    report_path = reports / "latency_report.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else {}

    checks = [check("train test accuracy", metrics.get("test_accuracy"), TRAIN_ACCURACY, ">="),
              check("train wall seconds", train_s if code == 0 else None, STAGE_SECONDS, "<=",
                    f"exit {code}, {metrics.get('seconds', '?')} s in epochs"),
              check("export wall seconds (search included)", export_s if manifest else None, EXPORT_SECONDS, "<=",
                    f"exit {code_e}")]
    if manifest:
        failed = [a["name"] for a in manifest["artifacts"] if a["status"] == "failed"]
        checks.append(check("export failed artifacts", len(failed), 0, "<=", ", ".join(failed)))
        checks += size_checks(manifest)
        checks += compression_checks(manifest, report)
    rec = (report.get("recommendation") or {}).get("cpu") or {}
    checks.append(check("cpu recommended p50 / torch-eager p50", rec.get("ratio_to_eager"), CPU_RATIO, "<=",
                        f"{rec.get('artifact')} via {rec.get('runtime')}, exit {code_r}"))

    result = {"machine": report.get("environment", {}), "checks": checks}
    atomic_write_json(out / "bench.json", result)
    for c in checks:
        value = "n/a" if c["value"] is None else f"{c['value']:.4g}"
        print(f"{'PASS' if c['ok'] else 'FAIL'}  {c['target']:<48} {value:>10}  {c['limit']:<8} {c['detail']}")
    print(f"bench: {sum(c['ok'] for c in checks)} of {len(checks)} targets met -> {out / 'bench.json'}")
    return 0 if all(c["ok"] for c in checks) else 1


if __name__ == "__main__":
    sys.exit(run_cli(main))
