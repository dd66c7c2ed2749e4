"""`python -m tools.bench` (`make bench`): run every stage once, time it, check the project's targets.

Targets are checked from measurements of this one run, never from a timed test: the machine is
shared and noisy, so speed goals are ratios measured side by side, interleaved (the latency
report re-times its fastest cpu rows against torch-eager in alternating rounds: runtime/compare.py),
or wall times printed with their context. Outputs go to a scratch folder (default reports/bench/),
so the pipeline's own outputs stay.

Each target is one function in CHECKS: (Run) -> list of check results. Now:
  train   test accuracy >= 98.0% with the default config; `python -m train` <= 180 s wall
  export  every default artifact ok or unsupported, none failed (int8/pruned within budget);
          int8 file <= 27% of the same format+backend fp32 file; structured + int8 <= 15%;
          `python -m export`, compression search included, <= 300 s wall
  runtime the recommended cpu artifact (the report's, chosen interleaved) at batch 1, 1 thread:
          the upper end of the 95% interval of its median p50 ratio to torch-eager <= 0.15;
          every runner's overhead over its runtime's own call within max(1 us, 10% of that call)
  compress every ok artifact within the budget on test; smallest ok artifact <= 6% of the dense
          fp32 file of its format+backend; the recommended cpu artifact's interleaved median ratio
          to torch-eager <= 0.12
  default the default report (what `make pipeline` measures) recommends, on every target both
          measured, the same artifact as `python -m runtime --full` on the same artifacts
  cnn     the same three stages for `--model cnn` (into <out_dir>/cnn/): test accuracy >= 99.0%;
          `python -m train` <= 300 s wall; no failed artifact; every format with at least one ok
          int8 artifact within the budget; smallest ok artifact <= 30% of its format's fp32 file;
          the recommended cpu artifact's interleaved ratio to torch-eager reported
The MLP's report checks read the --full report (<out_dir>/reports); the default one is
<out_dir>/reports-default; the CNN's read its default report. The pipeline's wall-time goals:
tools/timing.py (`make timing`).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

from common.config import add_config_flags, config_from_args, option
from common.errors import UserError, one_line, run_cli
from common.files import atomic_write_json, ensure_writable_dir
from export import manifest as export_manifest
from export.verify import SIZE_INT8, SIZE_STRUCTURED_INT8
from train import checkpoint

STAGE_SECONDS = 180.0
TRAIN_ACCURACY = 0.98
CPU_RATIO = 0.15
EXPORT_SECONDS, SMALLEST_SIZE, FASTEST_RATIO = 300.0, 0.06, 0.12  # the compression search's targets
CNN_ACCURACY, CNN_TRAIN_SECONDS, CNN_SMALLEST_SIZE = 0.99, 300.0, 0.30


@dataclasses.dataclass(frozen=True)
class Run:
    """What one bench run produced: each stage's exit code and wall seconds, and its outputs ({} when absent)."""
    train: tuple[int, float]
    export: tuple[int, float]
    report_code: int
    metrics: dict
    manifest: dict
    report: dict                                                        # python -m runtime --full
    default_report: dict = dataclasses.field(default_factory=dict)     # python -m runtime, as make pipeline


def check(name: str, value: float | None, limit: float | None, op: str, detail: str = "") -> dict:
    """op "<=" or ">=" against limit; "reported": met when there is a value (no goal on it)."""
    ok = value is not None and (op == "reported" or (value <= limit if op == "<=" else value >= limit))
    return {"target": name, "value": value, "limit": op if op == "reported" else f"{op} {limit}", "ok": ok,
            "detail": detail}


def train_checks(run: Run) -> list[dict]:
    code, seconds = run.train
    return [check("train test accuracy", run.metrics.get("test_accuracy"), TRAIN_ACCURACY, ">="),
            check("train wall seconds", seconds if code == 0 else None, STAGE_SECONDS, "<=",
                  f"exit {code}, {run.metrics.get('seconds', '?')} s in epochs" if seconds else "not timed here")]


def export_checks(run: Run) -> list[dict]:
    code, seconds = run.export
    out = [check("export wall seconds (search included)", seconds if run.manifest else None, EXPORT_SECONDS, "<=",
                 f"exit {code}" if seconds else "not timed here")]
    if run.manifest:
        failed = [a["name"] for a in run.manifest["artifacts"] if a["status"] == "failed"]
        out.append(check("export failed artifacts", len(failed), 0, "<=", ", ".join(failed)))
    return out


def size_checks(run: Run) -> list[dict]:
    """Every ok int8 artifact against the fp32, unpruned artifact of the same format and backend."""
    artifacts = run.manifest.get("artifacts", [])
    fp32 = {(a["format"], a["backend"]): a["size_bytes"] for a in artifacts
            if a["status"] == "ok" and a["quantization"] == "none" and a["pruning"] == "none"}
    checks = []
    for a in artifacts:
        key = (a["format"], a["backend"])
        if a["status"] != "ok" or a["quantization"] == "none" or key not in fp32:
            continue
        limit = SIZE_STRUCTURED_INT8 if a["pruning"] == "structured" else SIZE_INT8
        ratio = a["size_bytes"] / fp32[key]
        checks.append(check(f"size {a['name']} / fp32", ratio, limit, "<=", f"{ratio:.1%} of {fp32[key]} B"))
    return checks


def cpu_ratio_check(run: Run) -> list[dict]:
    """The recommendation's interleaved ratio: pass only when its interval's upper end is within the goal."""
    rec = (run.report.get("recommendation") or {}).get("cpu") or {}
    interval = rec.get("interleaved_ratio_ci95") or [None, None]
    median = rec.get("interleaved_ratio") or float("nan")
    detail = (f"{rec.get('artifact')} via {rec.get('runtime')}: median {median:.4f}, "
              f"95% interval {interval}, exit {run.report_code}")
    return [check("cpu recommended / torch-eager, interval upper end", interval[1], CPU_RATIO, "<=", detail)]


def runner_overhead_checks(run: Run) -> list[dict]:
    out = []
    cpu = (run.report.get("targets") or {}).get("cpu") or {}
    for runtime, o in (cpu.get("runner_overhead") or {}).items():
        value = o.get("overhead_us")
        detail = o.get("error") or f"{o['runner_p50_us']:.2f} vs {o['raw_p50_us']:.2f} us ({o['artifact']})"
        out.append(check(f"runner overhead us, {runtime}", value, round(o.get("bound_us", 1.0), 3), "<=", detail))
    return out


def compression_checks(run: Run) -> list[dict]:
    """The compression search's targets: every ok artifact within budget on test, the smallest one's
    size against its format's dense fp32 file, the recommended cpu artifact's interleaved ratio."""
    ok = [a for a in run.manifest.get("artifacts", []) if a["status"] == "ok"]
    if not ok:
        return [check("ok artifacts", 0, 1, ">=", "the export produced none")]
    floor = run.manifest["reference"]["test_accuracy"] - run.manifest["accuracy_budget_pp"] / 100 - 1e-9
    outside = [a["name"] for a in ok if a["test_accuracy"] is not None and a["test_accuracy"] < floor]
    smallest, ratio = smallest_ratio(ok)
    rec = (run.report.get("recommendation") or {}).get("cpu") or {}
    return [check("ok artifacts outside the budget on test", len(outside), 0, "<=", ", ".join(outside)),
            check("smallest ok artifact / its format's fp32 file", ratio, SMALLEST_SIZE, "<=", f"{smallest}"),
            check("cpu recommended / torch-eager, interleaved median", rec.get("interleaved_ratio"), FASTEST_RATIO,
                  "<=", f"{rec.get('artifact')} via {rec.get('runtime')}")]


def smallest_ratio(ok: list[dict]) -> tuple[str | None, float | None]:
    """The ok artifact smallest against the dense fp32 file of its format and backend, and that ratio."""
    fp32 = {(a["format"], a["backend"]): a["size_bytes"] for a in ok
            if a["quantization"] == "none" and a["pruning"] == "none"}
    ratios = {a["name"]: a["size_bytes"] / fp32[(a["format"], a["backend"])] for a in ok
              if (a["format"], a["backend"]) in fp32}
    smallest = min(ratios, key=ratios.get, default=None)
    return smallest, ratios.get(smallest)


def cnn_checks(run: Run) -> list[dict]:
    """The CNN's targets: accuracy, training time, an ok int8 artifact within budget in every format,
    the smallest ok artifact against its format's fp32 file, the recommendation's ratio reported."""
    code, seconds = run.train
    artifacts = run.manifest.get("artifacts", [])
    ok = [a for a in artifacts if a["status"] == "ok"]
    budget = run.manifest.get("accuracy_budget_pp", 0.0) / 100
    floor = (run.manifest.get("reference") or {}).get("test_accuracy", 1.0) - budget - 1e-9
    int8 = {fmt: [a["name"] for a in ok if a["format"] == fmt and a["quantization"] != "none"
                  and a["test_accuracy"] >= floor] for fmt in sorted({a["format"] for a in artifacts})}
    smallest, ratio = smallest_ratio(ok)
    rec = (run.report.get("recommendation") or {}).get("cpu") or {}
    failed = [a["name"] for a in artifacts if a["status"] == "failed"]
    return [check("cnn train test accuracy", run.metrics.get("test_accuracy"), CNN_ACCURACY, ">="),
            check("cnn train wall seconds", seconds if code == 0 else None, CNN_TRAIN_SECONDS, "<=",
                  f"exit {code}, {run.metrics.get('seconds', '?')} s in epochs" if seconds else "not timed here"),
            check("cnn export failed artifacts", len(failed) if artifacts else None, 0, "<=", ", ".join(failed)),
            *[check(f"cnn {fmt}: ok int8 artifacts within the budget", len(names), 1, ">=", ", ".join(names))
              for fmt, names in int8.items()],
            check("cnn smallest ok artifact / its format's fp32 file", ratio, CNN_SMALLEST_SIZE, "<=", f"{smallest}"),
            check("cnn cpu recommended / torch-eager, interleaved median", rec.get("interleaved_ratio"), None,
                  "reported", f"{rec.get('artifact')} via {rec.get('runtime')}")]


def default_checks(run: Run) -> list[dict]:
    """Per card both reports measured: the default's pick is the full report's pick."""
    full, default = (r.get("recommendation") or {} for r in (run.report, run.default_report))
    out = []
    for key in sorted(set(full) & set(default)):
        picks = [(card.get("artifact"), card.get("runtime")) for card in (default[key], full[key])]
        if not all(card.get("measured") and card.get("artifact") for card in (default[key], full[key])):
            continue
        same = picks[0][0] == picks[1][0]
        out.append(check(f"{key}: default report recommends the --full pick", 0 if same else 1, 0, "<=",
                         f"default {picks[0][0]} via {picks[0][1]}, --full {picks[1][0]} via {picks[1][1]}"))
    return out or [check("default report recommends the --full pick", None, 0, "<=", "no card measured in both")]


CHECKS: list[Callable[[Run], list[dict]]] = [train_checks, export_checks, size_checks, compression_checks,
                                             cpu_ratio_check, runner_overhead_checks, default_checks]
MODEL_CHECKS: dict[str, list[Callable[[Run], list[dict]]]] = {"mlp": CHECKS, "cnn": [cnn_checks]}


def timed(cmd: list[str]) -> tuple[int, float]:
    """Run a stage as the user would, in a fresh interpreter; (exit code, wall seconds). Ctrl-C or
    SIGTERM here (run_cli raises KeyboardInterrupt for both) ends the stage too, and waits for its
    own cleanup (SIGTERM: its unfinished run folder removed)."""
    print("$ " + " ".join(cmd), flush=True)
    start = time.perf_counter()
    with subprocess.Popen(cmd) as stage:
        try:
            code = stage.wait()
        except BaseException:
            stage.terminate()
            stage.wait()
            raise
    return code, time.perf_counter() - start


def read_json(path: Path, fix: str) -> dict:
    """The JSON object in `path`, {} when there is none; anything else is one UserError naming `fix`."""
    if not path.exists():
        return {}
    try:
        doc = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError) as e:  # ValueError: bad JSON, bad UTF-8
        raise UserError(f"{path} cannot be read as JSON ({one_line(e)[:120]}); {fix}") from None
    if not isinstance(doc, dict):
        raise UserError(f"{path} holds a JSON {type(doc).__name__}, not an object; {fix}")
    return doc


NOT_TIMED = {"train": [0, None], "export": [0, None]}


def earlier_stages(bench_json: Path, model: str) -> tuple[tuple[int, float | None], tuple[int, float | None]]:
    """The train and export (exit code, wall seconds) an earlier run recorded for `model` in bench.json
    (models.<model>.stages); outputs placed in the folder by other means have no timings: their
    wall-time checks then fail as not timed."""
    fix = "delete it and run without --reuse"
    models = read_json(bench_json, fix).get("models", {})
    entry = models.get(model, {}) if isinstance(models, dict) else None
    stages = entry.get("stages", NOT_TIMED) if isinstance(entry, dict) else None
    pairs = [stages.get(k) if isinstance(stages, dict) else None for k in ("train", "export")]
    for pair in pairs:
        if not (isinstance(pair, list) and len(pair) == 2 and type(pair[0]) is int
                and (pair[1] is None or type(pair[1]) in (int, float))):
            raise UserError(f"{bench_json} has no valid models.{model}.stages.train and .export "
                            f"([exit code, seconds]); {fix}")
    return tuple(pairs[0]), tuple(pairs[1])


def check_reuse(out: Path, model: str, bench_json: Path) -> tuple[tuple, tuple]:
    """--reuse's inputs for `model` in its folder `out`, each checked before any report runs: its
    bench.json stages, the manifest, the checkpoint."""
    ckpt, manifest = out / "checkpoints" / f"{model}.pt", out / "artifacts" / "manifest.json"
    stages = earlier_stages(bench_json, model)
    if not ckpt.exists() or not manifest.exists():
        raise UserError(f"--reuse needs {ckpt} and {manifest} from an earlier run; run without --reuse first")
    export_manifest.read(manifest)
    checkpoint.load(ckpt)
    return stages


def run_stages(out: Path, data: list[str], model: str = "mlp", earlier: tuple[tuple, tuple] | None = None) -> Run:
    """Train `model`, export and report in fresh interpreters; with `earlier` (--reuse: the train and
    export results check_reuse read back from bench.json), only the report, on the checkpoint and
    artifacts an earlier run left in `out`."""
    py = sys.executable
    ckpt_dir, artifacts, reports = out / "checkpoints", out / "artifacts", out / "reports"
    ckpt = ckpt_dir / f"{model}.pt"
    if earlier:
        train, export = earlier
    else:  # --force: a bench times every stage, even one whose outputs are up to date
        train = timed([py, "-m", "train", "--model", model, "--out-dir", str(ckpt_dir), "--resume", "false",
                       "--force", *data])
        export = timed([py, "-m", "export", "--checkpoint", str(ckpt),
                        "--out-dir", str(artifacts), "--keep-runs", "1", "--force", *data])
    fix = "rerun without --reuse"
    metrics = read_json(ckpt_dir / f"{model}.metrics.json", fix) if train[0] == 0 else {}
    report = [py, "-m", "runtime", "--manifest", str(artifacts / "manifest.json"), "--force",
              "--checkpoint", str(ckpt), "--device-results-dir", str(out / "device_results"), *data]
    timed(report + ["--out-dir", str(out / "reports-default")])
    # the MLP's checks read the exhaustive matrix; the CNN's only its recommendation (the default report's)
    code, _ = timed(report + ["--out-dir", str(reports), "--full"] if model == "mlp" else
                    report + ["--out-dir", str(reports)])
    manifest = export_manifest.read(artifacts / "manifest.json") if (artifacts / "manifest.json").exists() else {}
    return Run(train, export, code, metrics, manifest, read_json(reports / "latency_report.json", fix),
               read_json(out / "reports-default" / "latency_report.json", fix))


@dataclasses.dataclass(frozen=True)
class BenchConfig:
    out_dir: Path = option(Path("reports/bench"), "scratch folder for this run (the pipeline's own outputs stay)")
    data_dir: str = option("", "dataset root passed to every stage (empty: each stage's config / env DATA_DIR)")
    reuse: bool = option(False, "re-run only the latency report on the checkpoint and artifacts of an earlier run in "
                                "out_dir; its train and export results (wall times included) are read back, not "
                                "re-measured")
    models: tuple[str, ...] = option(("mlp", "cnn"), "models to run and check: mlp (into out_dir), cnn (into "
                                                     "out_dir/cnn)")

    def __post_init__(self) -> None:
        unknown = [m for m in self.models if m not in MODEL_CHECKS]
        if unknown or not self.models:
            raise ValueError(f"models must be some of {list(MODEL_CHECKS)}, got {list(self.models)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_flags(parser, BenchConfig, config_file=False)
    cfg = config_from_args(BenchConfig, "bench", parser.parse_args(argv))
    out = ensure_writable_dir(cfg.out_dir, "benchmark")
    data = ["--data-dir", cfg.data_dir] if cfg.data_dir else []
    folders = {m: out if m == "mlp" else out / m for m in cfg.models}
    earlier = {m: check_reuse(folders[m], m, out / "bench.json") for m in cfg.models} if cfg.reuse else {}
    runs, checks = {}, []
    for model in cfg.models:
        runs[model] = run_stages(folders[model], data, model, earlier.get(model))
        checks += [c for make in MODEL_CHECKS[model] for c in make(runs[model])]
    machine = next(iter(runs.values())).report.get("environment", {})
    atomic_write_json(out / "bench.json", {
        "machine": machine, "reused": cfg.reuse, "checks": checks,
        "models": {m: {"stages": {"train": list(r.train), "export": list(r.export)}} for m, r in runs.items()}})
    for c in checks:
        value = "n/a" if c["value"] is None else f"{c['value']:.4g}"
        print(f"{'PASS' if c['ok'] else 'FAIL'}  {c['target']:<48} {value:>10}  {c['limit']:<8} {c['detail']}")
    print(f"bench: {sum(c['ok'] for c in checks)} of {len(checks)} targets met -> {out / 'bench.json'}")
    return 0 if all(c["ok"] for c in checks) else 1


if __name__ == "__main__":
    sys.exit(run_cli(main))
