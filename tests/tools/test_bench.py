"""tools/bench.py's checks on hand-made results: each target is one function of one run."""
from __future__ import annotations

from tools import bench


def run_with(report: dict, manifest: dict | None = None) -> bench.Run:
    return bench.Run(train=(0, 40.0), export=(0, 90.0), report_code=0, metrics={"test_accuracy": 0.983},
                     manifest=manifest or {"artifacts": []}, report=report)


def recommended(low: float, high: float) -> dict:
    return {"recommendation": {"cpu": {"artifact": "a", "runtime": "r", "interleaved_ratio": (low + high) / 2,
                                       "interleaved_ratio_ci95": [low, high]}}}


def test_the_ratio_goal_is_checked_on_the_upper_end_of_the_interval():
    (ok,) = bench.cpu_ratio_check(run_with(recommended(0.12, 0.149)))
    (missed,) = bench.cpu_ratio_check(run_with(recommended(0.12, 0.151)))  # median 0.1355 is within: not enough
    (absent,) = bench.cpu_ratio_check(run_with({}))
    assert ok["ok"] and ok["value"] == 0.149
    assert not missed["ok"] and not absent["ok"] and absent["value"] is None


def test_each_runner_overhead_is_a_check_against_its_bound():
    report = {"targets": {"cpu": {"runner_overhead": {
        "fast": {"overhead_us": 0.4, "bound_us": 1.0, "runner_p50_us": 10.4, "raw_p50_us": 10.0, "artifact": "a"},
        "slow": {"overhead_us": 5.0, "bound_us": 2.0, "runner_p50_us": 25.0, "raw_p50_us": 20.0, "artifact": "a"},
        "broken": {"error": "load failed", "artifact": "a"}}}}}
    checks = {c["target"]: c["ok"] for c in bench.runner_overhead_checks(run_with(report))}
    assert checks == {"runner overhead us, fast": True, "runner overhead us, slow": False,
                      "runner overhead us, broken": False}


def test_every_check_function_runs_on_an_empty_run():
    empty = bench.Run(train=(1, 5.0), export=(1, 5.0), report_code=2, metrics={}, manifest={}, report={})
    results = [c for make in bench.CHECKS for c in make(empty)]
    assert results and not any(c["ok"] for c in results)


def test_the_cnn_needs_an_ok_int8_artifact_within_budget_in_every_format():
    def row(name, fmt, quantization, size, accuracy=0.990, status="ok", backend="cpu"):
        return {"name": name, "format": fmt, "backend": backend, "quantization": quantization, "pruning": "none",
                "status": status, "size_bytes": size, "test_accuracy": accuracy}
    manifest = {"reference": {"test_accuracy": 0.992}, "accuracy_budget_pp": 0.3, "artifacts": [
        row("cnn_onnx_fp32", "onnx", "none", 1000), row("cnn_onnx_int8-static", "onnx", "int8-static", 280),
        row("cnn_torchscript_fp32", "torchscript", "none", 1000),
        row("cnn_torchscript_int8-dynamic", "torchscript", "int8-dynamic", 350, accuracy=0.985),  # outside budget
        row("cnn_executorch-xnnpack_int8-static", "executorch", "int8-static", 0, status="unsupported",
            backend="xnnpack")]}
    run = bench.Run(train=(0, 120.0), export=(0, 900.0), report_code=0, metrics={"test_accuracy": 0.9932},
                    manifest=manifest, report={"recommendation": {"cpu": {"interleaved_ratio": 0.4}}})
    checks = {c["target"]: c for c in bench.cnn_checks(run)}
    assert checks["cnn train test accuracy"]["ok"] and checks["cnn train wall seconds"]["ok"]
    assert checks["cnn onnx: ok int8 artifacts within the budget"]["ok"]
    assert not checks["cnn torchscript: ok int8 artifacts within the budget"]["ok"]
    assert not checks["cnn executorch: ok int8 artifacts within the budget"]["ok"]
    smallest = checks["cnn smallest ok artifact / its format's fp32 file"]
    assert smallest["ok"] and smallest["value"] == 0.28 and smallest["detail"] == "cnn_onnx_int8-static"
    assert checks["cnn cpu recommended / torch-eager, interleaved median"]["ok"]


def test_every_cnn_check_runs_on_an_empty_run():
    empty = bench.Run(train=(1, 5.0), export=(1, 5.0), report_code=2, metrics={}, manifest={}, report={})
    results = bench.cnn_checks(empty)
    assert results and not any(c["ok"] for c in results)


def test_the_default_report_must_recommend_what_the_full_one_does():
    def cards(**picks):
        return {"recommendation": {k: {"measured": True, "artifact": a, "runtime": "r"} for k, a in picks.items()}
                | {"cuda": {"measured": False, "artifact": None}}}
    run = bench.Run(train=(0, 1.0), export=(0, 1.0), report_code=0, metrics={}, manifest={},
                    report=cards(cpu="a", arm64="b"), default_report=cards(cpu="a", arm64="c"))
    checks = {c["target"]: c["ok"] for c in bench.default_checks(run)}
    assert checks == {"cpu: default report recommends the --full pick": True,
                      "arm64: default report recommends the --full pick": False}  # cuda: measured by neither
