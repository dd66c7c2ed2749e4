"""`python -m runtime` end to end on real artifacts, in quick mode: rows, failures, exit codes, baseline."""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from common.files import sha256_file
from runtime import compare
from runtime.__main__ import main
from runtime.manifest import read_manifest
from tests.conftest import require
from tests.processes import command_of, descendants, running

KINDS = {"torchscript", "torchscript-lite", "onnxruntime", "onnxruntime-iobinding",
         "executorch-xnnpack", "executorch-portable"}


def test_every_runtime_kind_loads_runs_and_keeps_accuracy(quick_report):
    code, out, report = quick_report
    assert code == 0, report["problems"]
    cpu = [r for r in report["rows"] if r["target"] == "cpu"]
    assert {r["runtime"] for r in cpu} == KINDS | {"torch-eager"}
    for r in cpu:
        assert r["status"] == "ok", r
        assert r["accuracy"] > 0.9 and r["top1_agreement"] > 0.97, r  # 3-epoch model; int8 may flip a few
        assert r["p50_us"] > 0 and r["p90_us"] >= r["p50_us"] and r["throughput"] > 0
        assert r["ratio_to_eager"] is not None
    eager = [r for r in cpu if r["runtime"] == "torch-eager"]
    assert [r["ratio_to_eager"] for r in eager] == [1.0, 1.0]
    # every artifact's accuracy is the export's verified one (same file, runtime build, data, batch and
    # threads); the checkpoint's own is measured
    assert {r["accuracy_source"] for r in cpu if r["runtime"] != "torch-eager"} == {"export"}
    assert {r["accuracy_source"] for r in eager} == {"measured"}
    assert all(r["accuracy_images"] == 10_000 for r in cpu)
    assert {r["batch"] for r in cpu} == {1, 32}
    assert (out / "latency_report.md").read_text().startswith("# Latency and accuracy report")


def test_report_states_its_environment_method_and_recommendation(quick_report, sample):
    _, _, report = quick_report
    env = report["environment"]
    for key in ("cpu_model", "cores", "threads", "versions", "git_commit", "date_utc", "harness_overhead"):
        assert key in env
    assert report["method"]["timed_calls_batch_1"] == 100  # --quick is visible in the report
    rec = report["recommendation"]["cpu"]
    assert rec["artifact"] in sample and rec["runtime"] in KINDS
    assert report["targets"]["cpu"]["compute_floor"]["floor_us"]["1"]["1"] > 0


def test_report_has_runner_overheads_the_interleaved_ratio_and_both_floors(quick_report):
    _, out, report = quick_report
    overhead = report["targets"]["cpu"]["runner_overhead"]
    assert set(overhead) == KINDS | {"torch-eager"}
    for runtime, o in overhead.items():
        assert o["raw_p50_us"] > 0 and o["runner_p50_us"] > 0 and o["raw_call"], runtime
        assert o["overhead_ci95"][0] <= o["overhead_us"] <= o["overhead_ci95"][1]
        assert o["bound_us"] == max(1.0, 0.1 * o["raw_p50_us"])
    interleaved = report["targets"]["cpu"]["interleaved_ratio"]
    assert 1 <= len(interleaved["candidates"]) <= compare.MAX_CANDIDATES and interleaved["rounds"] == compare.RATIO_ROUNDS
    for c in interleaved["candidates"]:
        low, high = c["ratio_ci95"]
        assert 0 < low <= c["ratio"] <= high
    rec, fastest = report["recommendation"]["cpu"], interleaved["fastest"]
    assert (rec["artifact"], rec["runtime"]) == (fastest["artifact"], fastest["runtime"])  # report and bench agree
    assert rec["interleaved_ratio_ci95"] == fastest["ratio_ci95"]
    for r in report["rows"]:
        if r["target"] == "cpu" and r["status"] == "ok":
            assert r["memory_floor_us"] > 0 and r["nearer_floor"] in ("memory", "compute"), r
            assert r["over_floor_us"] is not None
    # the page's folded method section at the end holds them (the Markdown is the cards and the table)
    method = (out / "latency_report.html").read_text().split("Method, environment, runner overheads and floors")[1]
    assert "executorch-xnnpack" in method and "interleaved" in method and "floor" in method


def test_the_default_report_names_what_only_full_measures(quick_report):
    _, _, report = quick_report
    left = report["method"]["left_out"]
    assert report["targets"]["cpu"]["left_out"] == left["cpu"]
    assert any("batch 256" in phrase for phrase in left["cpu"]) and "peak RSS per artifact" in left["cpu"]
    assert "the compute and memory floors" not in left["cpu"]  # --floors true: measured


def test_a_report_with_the_same_inputs_is_skipped_and_a_changed_setting_reruns_it(small_export, trained, data_dir,
                                                                                  tmp_path, capsys):
    from common.errors import run_cli
    argv = small_args(small_export, trained, data_dir, tmp_path, "--targets", "cpu")
    assert run_cli(main, argv) == 0
    assert capsys.readouterr().out.startswith("report: running: no record of an earlier run")
    before = (tmp_path / "latency_report.json").read_text()
    assert run_cli(main, argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("report: skipped: its output was made from the same inputs") and "cpu: recommended" in out
    assert (tmp_path / "latency_report.json").read_text() == before
    assert run_cli(main, argv + ["--cv-warn", "0.4"]) == 0
    assert "report: running: changed since the last run: config.cv_warn: 0.5 -> 0.4" in capsys.readouterr().out
    (tmp_path / "latency_report.md").unlink()  # a reader removed a file of the report: not done any more
    assert run_cli(main, argv + ["--cv-warn", "0.4"]) == 0
    assert "report: running: its output" in capsys.readouterr().out


def test_without_a_gpu_cuda_rows_say_not_measured(quick_report):
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present: the cuda rows are measured")
    _, _, report = quick_report
    (cuda,) = [r for r in report["rows"] if r["target"] == "cuda"]
    assert cuda["status"] == "not measured" and cuda["reason"] == "no CUDA device"
    assert cuda["p50_us"] is None and cuda["accuracy"] is None
    card = report["recommendation"]["cuda"]
    assert not card["measured"] and card["how_to_measure"] == "python -m runtime --targets cuda"


def test_device_targets_without_results_say_why(quick_report):
    _, _, report = quick_report
    for target in ("android", "browser-wasm"):
        (row,) = [r for r in report["rows"] if r["target"] == target]
        assert row["status"] == "not measured" and "no results file" in row["reason"]


def copy_artifacts(manifest_path, dest):
    """A private copy of the manifest's folder that a test may damage."""
    shutil.copytree(manifest_path.parent, dest)
    return dest / "manifest.json"


def test_sha256_mismatch_and_unloadable_artifact_are_failed_rows_and_exit_1(manifest_path, trained, data_dir,
                                                                            tmp_path, quick_report, quick_args):
    manifest = copy_artifacts(manifest_path, tmp_path / "artifacts")
    data = json.loads(manifest.read_text())
    by_name = {a["name"]: a for a in data["artifacts"]}
    by_name["mlp_onnx_fp32"]["sha256"] = "0" * 64                       # the manifest disagrees with the file
    broken = manifest.parent / by_name["mlp_torchscript_fp32"]["path"]  # the file is garbage, sha256 matches
    broken.write_bytes(b"not a TorchScript archive")
    by_name["mlp_torchscript_fp32"]["sha256"] = sha256_file(broken)
    manifest.write_text(json.dumps(data))
    out = tmp_path / "report"
    baseline = quick_report[1] / "latency_report.json"
    code = main(quick_args(manifest, trained, data_dir, out, "--baseline", str(baseline),
                           "--targets", "cpu", "--batches", "1", "--artifacts", "mlp_onnx_fp32,mlp_torchscript_fp32"))
    assert code == 1
    report = json.loads((out / "latency_report.json").read_text())  # written despite the failures
    rows = {(r["artifact"], r["runtime"]): r for r in report["rows"]}
    for runtime in ("onnxruntime", "onnxruntime-iobinding"):
        assert rows[("mlp_onnx_fp32", runtime)]["status"] == "failed"
        assert "sha256 mismatch" in rows[("mlp_onnx_fp32", runtime)]["reason"]
    ts = rows[("mlp_torchscript_fp32", "torchscript")]  # its accuracy is the export's: loading it is what fails
    assert ts["status"] == "failed" and ts["reason"].startswith("load failed: ")
    assert sum(": failed: " in p for p in report["problems"]) == 3
    assert "target cpu was asked for but measured no artifact" in " ".join(report["problems"])
    # the baseline had these rows ok: each is listed as a status regression
    kinds = {(g["artifact"], g["runtime"], g["kind"]) for g in report["baseline"]["regressions"]}
    assert ("mlp_onnx_fp32", "onnxruntime", "status") in kinds
    assert ("mlp_torchscript_fp32", "torchscript", "status") in kinds
    assert "regression:" in (out / "latency_report.md").read_text()


def test_a_bad_flag_value_is_one_line_and_exit_2(tmp_path, capsys):
    from common.errors import run_cli
    assert run_cli(main, ["--targets", "tpu", "--out-dir", str(tmp_path)]) == 2
    assert "unknown targets ['tpu']" in capsys.readouterr().err


def test_sample_names_exist_in_the_manifest(manifest_path, sample):
    names = {a.name for a in read_manifest(manifest_path).artifacts}
    assert set(sample) <= names


# The exit-code contract (README, "Exit codes") and the inputs checked before anything is measured,
# on the one-artifact export: 0 = measured and within budget, 1 = report written but the contract
# broken, 2 = bad input (one line, nothing measured, the previous report untouched).

def small_args(manifest, checkpoint, data_dir, out, *extra) -> list[str]:
    return ["--manifest", str(manifest), "--checkpoint", str(checkpoint), "--data-dir", str(data_dir),
            "--out-dir", str(out), "--device-results-dir", str(out / "device_results"), "--quick",
            "--batches", "1", "--threads", "1", *extra]


def run_cli_captured(capsys, argv) -> tuple[int, str]:
    from common.errors import run_cli
    code = run_cli(main, argv)
    return code, capsys.readouterr().err


@pytest.fixture(scope="module")
def small_report(small_export, trained, data_dir, tmp_path_factory):
    """(exit code, folder) of one report of the one-artifact export with the default targets. Its one
    artifact is the arm64 pick, which would also emulate the rest of the test set (fp32: ~1.5 min
    of CPU); tests/runtime/targets/test_arm64.py covers that on the quick report."""
    out = tmp_path_factory.mktemp("small-report")
    return main(small_args(small_export, trained, data_dir, out, "--arm64-whole-pick", "false")), out


def test_default_targets_this_machine_lacks_do_not_fail_the_run(small_report):
    code, out = small_report
    report = json.loads((out / "latency_report.json").read_text())
    assert code == 0, report["problems"]
    assert {r["target"] for r in report["rows"] if r["status"] == "not measured"} >= {"android", "browser-wasm"}


def test_a_named_target_that_measures_nothing_exits_1(small_export, trained, data_dir, tmp_path, capsys):
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present: the cuda target measures")
    code, err = run_cli_captured(capsys, small_args(small_export, trained, data_dir, tmp_path, "--targets", "cpu,cuda"))
    assert code == 1 and "problem: target cuda was asked for but measured no artifact (no CUDA device)" in err


def test_zero_measurable_artifacts_exits_1(small_export, trained, data_dir, tmp_path, capsys):
    manifest = copy_artifacts(small_export, tmp_path / "artifacts")
    data = json.loads(manifest.read_text())
    for a in data["artifacts"]:
        a.update(status="failed", reason="OSError: [Errno 28] No space left on device", path=None, sha256=None)
    manifest.write_text(json.dumps(data))
    code, err = run_cli_captured(capsys, small_args(manifest, trained, data_dir, tmp_path / "r"))
    assert code == 1 and "problem: no artifact was measured on any target" in err


def test_an_artifacts_pattern_that_matches_nothing_exits_2(small_export, trained, data_dir, tmp_path, capsys):
    code, err = run_cli_captured(capsys, small_args(small_export, trained, data_dir, tmp_path,
                                                    "--artifacts", "mlp_onnx_fp32,mlp_onx_*"))
    assert code == 2 and "--artifacts pattern 'mlp_onx_*' matches no artifact" in err and err.count("\n") == 1
    assert "mlp_onnx_fp32" in err  # the valid names, to fix the typo


def test_shuffled_test_labels_are_refused_before_measuring(small_export, trained, data_dir, tmp_path, capsys):
    """Same file size, different labels: without the sha256 check every accuracy is ~10% and the run passes."""
    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for f in (data_dir / "MNIST" / "raw").iterdir():
        (raw / f.name).symlink_to(f)
    labels = (raw / "t10k-labels-idx1-ubyte").read_bytes()
    (raw / "t10k-labels-idx1-ubyte").unlink()
    (raw / "t10k-labels-idx1-ubyte").write_bytes(labels[:8] + labels[9:] + labels[8:9])  # header kept, rotated
    code, err = run_cli_captured(capsys, small_args(small_export, trained, tmp_path / "data", tmp_path / "r"))
    assert code == 2 and "dataset files ['t10k-labels-idx1-ubyte']" in err and err.count("\n") == 1
    assert not (tmp_path / "r" / "latency_report.json").exists()


@pytest.mark.parametrize("name, content, message", [
    ("browser-wasm.json", '{"target": "browser-wasm", "results": "none"}', "browser-wasm results are invalid"),
    ("android.json", "{", "is unreadable"),
    ("baseline.json", '{"schema": "latency-report/1", "rows": [{"artifact": "a"}]}', "rows\\[0\\] has missing"),
    ("baseline.json", "not json", "is not valid JSON"),
])
def test_a_malformed_device_results_or_baseline_file_is_refused_before_measuring(
        small_report, small_export, trained, data_dir, tmp_path, capsys, name, content, message):
    _, out = small_report
    before = {p.name: p.read_text() for p in out.glob("latency_report.*")}
    folder = tmp_path / "inputs"
    folder.mkdir()
    (folder / name).write_text(content)
    argv = small_args(small_export, trained, data_dir, out, "--device-results-dir", str(folder))
    if name == "baseline.json":
        argv += ["--baseline", str(folder / name)]
    code, err = run_cli_captured(capsys, argv)
    assert code == 2 and err.count("\n") == 1
    assert re.search(message, err), err
    assert {p.name: p.read_text() for p in out.glob("latency_report.*")} == before


# Faults the report must survive or refuse early (issue 24): a file that crashes its runtime, a report
# folder it cannot publish into, a signal while child processes run.

ROOT = Path(__file__).resolve().parents[2]


def crashing_pte(good: bytes) -> bytes:
    """A .pte that aborts ExecuTorch's loader: its file identifier (bytes 4-8) made invalid UTF-8, so
    the loader's error message cannot become a Python string and the C++ exception terminates the
    process (SIGABRT), as 10 of 12 files of random bytes do."""
    return good[:4] + b"\xf8" * 4 + good[8:]


def python_m_runtime(argv, **kwargs) -> subprocess.CompletedProcess:
    """`python -m runtime` in its own process: a crash there shows as an exit code, not a dead pytest."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "runtime", *map(str, argv)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900, **kwargs)


def test_a_pte_that_crashes_its_runtime_is_a_failed_row_and_the_rest_survive(manifest_path, trained, data_dir,
                                                                             tmp_path, quick_args):
    manifest = copy_artifacts(manifest_path, tmp_path / "artifacts")
    data = json.loads(manifest.read_text())
    pte = next(a for a in data["artifacts"] if a["name"] == "mlp_executorch-xnnpack_fp32")
    path = manifest.parent / pte["path"]
    path.write_bytes(crashing_pte(path.read_bytes()))
    pte["sha256"] = sha256_file(path)  # the manifest agrees with the corrupt file: only loading it can tell
    manifest.write_text(json.dumps(data))
    out = tmp_path / "report"
    done = python_m_runtime(quick_args(manifest, trained, data_dir, out, "--targets", "cpu", "--batches", "1",
                                       "--artifacts", "mlp_executorch-xnnpack_fp32,mlp_onnx_fp32"))
    assert done.returncode == 1, done.stderr[-2000:]
    rows = {(r["artifact"], r["runtime"]): r for r in json.loads((out / "latency_report.json").read_text())["rows"]}
    crashed = rows[("mlp_executorch-xnnpack_fp32", "executorch-xnnpack")]
    assert crashed["status"] == "failed" and "SIGABRT" in crashed["reason"], crashed
    assert all(rows[("mlp_onnx_fp32", r)]["status"] == "ok" for r in ("onnxruntime", "onnxruntime-iobinding"))


@pytest.mark.parametrize("conflict", ["latency_report", "latency_report.json"])
def test_a_report_folder_conflict_is_refused_before_measuring(small_export, trained, data_dir, tmp_path, capsys,
                                                              monkeypatch, conflict):
    """A real folder where the report's link goes (`latency_report`, or `latency_report.json` and its
    siblings): one line and exit 2 before anything is measured, not a traceback after."""
    import runtime.__main__ as entry
    monkeypatch.setattr(entry, "build_report", lambda *a, **k: pytest.fail("measured before the folder check"))
    (tmp_path / "r" / conflict).mkdir(parents=True)
    (tmp_path / "r" / conflict / "keep.txt").write_text("a user's file")
    code, err = run_cli_captured(capsys, small_args(small_export, trained, data_dir, tmp_path / "r"))
    assert code == 2 and err.count("\n") == 1 and conflict in err and "--out-dir" in err, err
    assert (tmp_path / "r" / conflict / "keep.txt").read_text() == "a user's file"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_during_the_arm64_target_ends_its_emulations_and_temp_folders(small_export, trained, data_dir,
                                                                                tmp_path, sig, sigint_reaches_children):
    """The signal goes to `python -m runtime` alone (as `kill` sends it, not a terminal's Ctrl-C to the
    whole group): it must end its qemu processes itself, remove its temp folders and say what is true."""
    from runtime.targets import arm64
    require(arm64.missing_setup() is None, f"{arm64.missing_setup()}")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp)}
    argv = small_args(small_export, trained, data_dir, tmp_path / "r", "--targets", "arm64")
    process = subprocess.Popen([sys.executable, "-m", "runtime", *map(str, argv)], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    emulations = []
    try:
        deadline = time.monotonic() + 600
        while not emulations and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.2)
            emulations = [p for p in descendants(process.pid) if "qemu-aarch64" in command_of(p)]
        assert emulations, "no qemu process started"
        process.send_signal(sig)
        _, err = process.communicate(timeout=120)
        # folders only: ONNX Runtime keeps a session-id file (.ses) in TMPDIR
        outlived, left = [p for p in emulations if running(p)], [p for p in tmp.iterdir() if p.is_dir()]
    finally:
        for pid in [process.pid, *emulations]:  # whatever the run left behind, so later tests have the cores
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    assert not outlived, "qemu processes outlived the report"
    assert not left, left
    from runtime.__main__ import INTERRUPTED
    assert process.returncode == 128 + sig and err.strip().splitlines()[-1] == f"interrupted ({sig.name}): {INTERRUPTED}", err[-2000:]
    assert "Traceback" not in err
