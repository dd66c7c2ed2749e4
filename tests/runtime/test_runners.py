"""Every runtime path loads a real artifact, agrees with the checkpoint, and rejects bad input clearly."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from export import torchscript_lite
from export.torchscript import BUFFERED_BATCH
from export.variant import BOUND_SHAPES, Variant
from runtime import peak_rss, runners
from runtime.targets import TARGETS
from runtime.manifest import read_manifest, verified_path
from train.checkpoint import load_model


def runtimes_of_sample(manifest_path, sample):
    manifest = read_manifest(manifest_path)
    out = []
    for artifact in manifest.artifacts:
        if artifact.name in sample:
            out += [(name, verified_path(manifest, artifact)) for name in runners.runtimes_for(artifact)]
    return out


def test_each_artifact_runtime_matches_the_checkpoint_and_rejects_bad_input(manifest_path, sample, trained):
    model, _ = load_model(trained)
    x = np.random.default_rng(0).standard_normal((4, 1, 28, 28)).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    loaded = runtimes_of_sample(manifest_path, sample) + [("torch-eager", trained)]
    assert {name for name, _ in loaded} >= {"torchscript", "torchscript-lite", "onnxruntime", "onnxruntime-iobinding",
                                            "executorch-xnnpack", "executorch-portable", "torch-eager"}
    for name, path in loaded:
        runner = runners.load(name, path, threads=1)
        logits = runner.predict(x)
        assert logits.shape == (4, 10), name
        if "int8" not in path.name:
            assert np.abs(logits - expected).max() < 1e-3, name
        with pytest.raises(TypeError, match="expected dtype float32.*got float64"):
            runner.predict(x.astype(np.float64))
        with pytest.raises(ValueError, match=r"expected shape \[N, 1, 28, 28\].*got \[4, 784\]"):
            runner.predict(x.reshape(4, 784))
        with pytest.raises(TypeError, match="got >f4"):  # ORT would read these bytes as garbage
            runner.predict(x.astype(">f4"))
        with pytest.raises(ValueError, match="N >= 1"):
            runner.predict(np.zeros((0, 1, 28, 28), np.float32))
        with pytest.raises(ValueError, match=r"got \[4, 1, 27, 28\]"):  # a cropped view
            runner.predict(x[:, :, :27, :])
        np.testing.assert_allclose(runner.predict(x[::-1]), logits[::-1], atol=1e-5, err_msg=name)  # negative strides
        # a dtype equal to float32 but not the same object: the slow path, not a loop
        tagged = x.astype(np.dtype(np.float32, metadata={"unit": "normalized pixel"}))
        np.testing.assert_allclose(runner.predict(tagged), logits, atol=1e-5, err_msg=name)


def test_torch_runners_record_no_autograd_and_need_no_guard_per_call(manifest_path, sample, trained, tmp_path):
    """The eager checkpoint and the lite fp32 module (saved with requires_grad off) run with no
    inference_mode block per call, and their outputs carry no autograd history."""
    paths = dict(runtimes_of_sample(manifest_path, sample))
    x = np.zeros((2, 1, 28, 28), np.float32)
    for name, path in [("torch-eager", trained), ("torchscript-lite", paths["torchscript-lite"]),
                       ("torchscript", paths["torchscript"])]:
        runner = runners.load(name, path, threads=1)
        assert runner.guard is None, name
        assert not runner.module(torch.from_numpy(x)).requires_grad, name
    model, _ = load_model(trained)
    torchscript_lite.build(model, Variant("torchscript-lite", "cpu"), None, tmp_path / "m.ptl")
    assert all(p.requires_grad for p in model.parameters())  # the export's model can still be fine-tuned


def test_runners_that_bind_per_batch_size_keep_a_bounded_number_of_sizes(manifest_path, sample):
    """ORT I/O binding and ExecuTorch keep buffers for the last BOUND_SHAPES batch sizes only, and a
    size whose buffers were dropped binds anew with the same logits. The torch runners keep input
    buffers for batches up to BUFFERED_BATCH only; larger ones run zero-copy."""
    x = np.random.default_rng(1).standard_normal((max(BOUND_SHAPES, BUFFERED_BATCH) + 3, 1, 28, 28)).astype(np.float32)
    paths = dict(runtimes_of_sample(manifest_path, sample))
    for name, buffers in [("onnxruntime-iobinding", "bound"), ("executorch-xnnpack", "buffers")]:
        runner = runners.load(name, paths[name], threads=1)
        first = runner.predict(x[:1])
        for n in range(2, BOUND_SHAPES + 3):
            runner.predict(x[:n])
        assert len(getattr(runner, buffers)) == BOUND_SHAPES, name
        assert (1, 1, 28, 28) not in getattr(runner, buffers), name
        np.testing.assert_array_equal(runner.predict(x[:1]), first, err_msg=name)
    for name in ("torchscript", "torchscript-lite"):
        runner = runners.load(name, paths[name], threads=1)
        for n in range(1, len(x) + 1):  # the first call at a size binds (or runs zero-copy), the second reuses
            np.testing.assert_array_equal(runner.predict(x[:n]), runner.predict(x[:n]), err_msg=name)
        assert sorted(runner.buffers) == [(n, 1, 28, 28) for n in range(1, BUFFERED_BATCH + 1)], name


@pytest.mark.parametrize("name", ["onnxruntime-iobinding", "torchscript", "torchscript-lite"])
def test_runners_with_kept_buffers_leave_earlier_outputs_alone(manifest_path, sample, name):
    path = dict(runtimes_of_sample(manifest_path, sample))[name]
    runner = runners.load(name, path, threads=1)
    a, b = np.zeros((1, 1, 28, 28), np.float32), np.ones((1, 1, 28, 28), np.float32)
    first = runner.predict(a)
    second = runner.predict(b)
    assert not np.array_equal(first, second)  # the second call left the first call's logits alone
    np.testing.assert_array_equal(first, runner.predict(a))
    assert runner.predict(np.zeros((3, 1, 28, 28), np.float32)).shape == (3, 10)  # a new batch size binds anew


def test_peak_rss_is_measured_in_a_fresh_process(manifest_path, sample):
    path = dict(runtimes_of_sample(manifest_path, sample))["onnxruntime"]
    result = peak_rss.measure_in_subprocess("onnxruntime", path, batch=32)
    assert result["peak_rss_mb"] >= result["baseline_rss_mb"] > 10


THREADS_AFTER_A_SESSION = """
import os, sys
if sys.argv[2] == "toolkit":
    import runtime.runners
import onnxruntime as ort
options = ort.SessionOptions()
options.intra_op_num_threads = options.inter_op_num_threads = 1
ort.InferenceSession(sys.argv[1], options, providers=["CPUExecutionProvider"])
print(len(os.listdir("/proc/self/task")))
"""


def test_a_toolkit_process_runs_no_onnx_runtime_telemetry_thread(manifest_path, sample, tmp_path):
    """ONNX Runtime (>= 1.29 on Linux) starts a telemetry uploader thread unless ORT_DISABLE_TELEMETRY
    is set or a CI variable is: a bare process (no CI variables) has that thread, one that imported
    the toolkit first does not."""
    path = dict(runtimes_of_sample(manifest_path, sample))["onnxruntime"]
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "TMPDIR": str(tmp_path),
           "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    threads = {how: int(subprocess.run([sys.executable, "-c", THREADS_AFTER_A_SESSION, str(path), how], env=env,
                                       cwd=tmp_path, capture_output=True, text=True, check=True).stdout)
               for how in ("bare", "toolkit")}
    assert threads["toolkit"] == threads["bare"] - 1, threads


def test_peak_rss_failure_names_the_problem(tmp_path):
    with pytest.raises(RuntimeError, match="peak-RSS subprocess exited"):
        peak_rss.measure_in_subprocess("onnxruntime", tmp_path / "missing.onnx", batch=1)


def test_cuda_runtimes_say_why_they_cannot_run():
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    assert set(runners.of_target("cuda")) == {"torch-eager-cuda", "torchscript-cuda", "onnxruntime-cuda"}
    assert {runners.unavailable(r) for r in runners.of_target("cuda")} == {"no CUDA device"}


def test_one_registry_entry_per_runtime_with_one_baseline_per_target():
    assert {r.target for r in runners.RUNTIMES.values()} <= set(TARGETS)
    for target in ("cpu", "cuda"):
        assert [n for n, r in runners.of_target(target).items() if r.runs is None] == [
            "torch-eager" if target == "cpu" else "torch-eager-cuda"]
    assert all(runners.unavailable(n) is None for n in runners.of_target("cpu"))


def test_eager_baseline_runs_the_checkpoint(trained):
    runner = runners.load("torch-eager", trained, threads=1)
    assert runner.predict(np.zeros((2, 1, 28, 28), np.float32)).shape == (2, 10)


def test_executorch_runner_splits_only_batches_over_the_planned_bound(manifest_path, sample):
    path = dict(runtimes_of_sample(manifest_path, sample))["executorch-xnnpack"]
    runner = runners.load("executorch-xnnpack", path, threads=1)
    x = np.random.default_rng(1).standard_normal((runner.max_batch + 3, 1, 28, 28)).astype(np.float32)
    whole = runner.predict(x)  # two chunks: max_batch, then 3
    assert whole.shape == (len(x), 10) and whole.dtype == np.float32
    np.testing.assert_allclose(whole[-3:], runner.predict(x[-3:]), atol=1e-5)
    first = runner.predict(x[:1])
    runner.predict(x[1:2])
    np.testing.assert_array_equal(first, runner.predict(x[:1]))  # an earlier result is not overwritten


def test_each_runner_returns_what_its_runtimes_own_call_returns(manifest_path, sample, trained):
    """runner.raw is the call each runner's overhead is measured against (runtime/harness.py
    runner_overhead; `make bench` checks the overhead, on one run's interleaved rounds): it must be
    the same computation, numpy in and numpy out, or the overhead compares two different things."""
    x = np.random.default_rng(3).standard_normal((1, 1, 28, 28)).astype(np.float32)
    for name, path in runtimes_of_sample(manifest_path, sample) + [("torch-eager", trained)]:
        runner = runners.load(name, path, threads=1)
        raw = runner.raw(x)(x)
        assert isinstance(raw, np.ndarray) and raw.shape == (1, 10), name
        np.testing.assert_allclose(runner.predict(x), raw, rtol=1e-5, atol=1e-5, err_msg=name)
        del runner  # ExecuTorch resizes its threadpool only while no program is loaded
