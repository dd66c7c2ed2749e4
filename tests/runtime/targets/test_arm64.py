"""The arm64 target on real artifacts under qemu-user: parity with x86 on the test vectors, the parity
check catching wrong results, repeatable instruction counts, and the report's arm64 rows.

Needs `make arm64` (qemu-user, the arm64 userland, the aarch64 wheels, the runners and the plugin);
`make test` runs it first. Emulated floating point is slow (seconds per fp32 artifact on the test
vectors), so the runs are few: one runner process per format holds all of that format's artifacts.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from runtime.config import QUICK
from runtime.targets import arm64, arm64_runs
from runtime.manifest import read_manifest, verified_path
from tests.conftest import require


def x86_logits(artifact, path, images):
    """The artifact's logits on x86, computed here (no cpu-target logits to reuse)."""
    return arm64.x86_reference(artifact, path, images, 256, {})[0]


@pytest.fixture(scope="module")
def ready() -> None:
    require(arm64.missing_setup() is None, f"{arm64.missing_setup()}")


@pytest.fixture(scope="module")
def vectors(manifest_path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(normalized images [32, 1, 28, 28], labels, expected fp32 logits) from test_vectors.json."""
    tv = json.loads((manifest_path.parent / "test_vectors.json").read_text())
    norm = tv["normalization"]
    pixels = np.asarray(tv["pixels"], dtype=np.float32).reshape(-1, 1, 28, 28)
    images = (pixels / norm["scale"] - norm["mean"][0]) / norm["std"][0]
    return images.astype(np.float32), np.asarray(tv["labels"]), np.asarray(tv["expected_logits"], dtype=np.float32)


@pytest.fixture(scope="module")
def arm_runs(ready, manifest_path, vectors):
    """Every ok .onnx and .pte artifact run on ARM64 on the test vectors: {name: (artifact, path, result)}."""
    manifest = read_manifest(manifest_path)
    artifacts = [a for a in manifest.artifacts if a.status == "ok" and a.format in arm64.RUNNERS]
    out = {}
    for fmt in arm64.RUNNERS:
        group = [a for a in artifacts if a.format == fmt]
        paths = [verified_path(manifest, a) for a in group]
        for a, p, r in zip(group, paths, arm64_runs.run_on_arm(fmt, paths, vectors[0], count_batches=(1,))):
            out[a.name] = (a, p, r)
    return out


def test_every_onnx_and_pte_artifact_runs_on_arm64_like_on_x86(arm_runs, vectors):
    images, labels, expected = vectors
    kinds = {(a.format, a.backend) for a, _, _ in arm_runs.values()}
    assert {("onnx", "cpu"), ("executorch", "xnnpack"), ("executorch", "portable")} <= kinds
    for name, (artifact, path, result) in arm_runs.items():
        assert result.error is None, (name, result.error)
        x86 = x86_logits(artifact, path, images)
        diff, agreement, wrong = arm64.parity(result.logits, x86, artifact.quantization)
        if artifact.quantization == "none":
            assert wrong is None, (name, wrong)
        else:  # int8 kernels round differently per CPU: 1 of 32 top-1 flips is within the 98% bound
            assert diff <= arm64.PARITY_MAX_ABS_DIFF[artifact.quantization] and agreement >= 31 / 32, (name, wrong)
        if artifact.quantization == "none" and artifact.pruning == "none":
            # fp32 artifacts of the unpruned model reproduce the PyTorch logits on ARM too
            assert np.abs(result.logits - expected).max() <= 1e-4, name
        assert (result.logits.argmax(1) == labels).mean() >= 0.9, name  # 32 real test digits


def test_parity_check_catches_a_corrupted_input_and_a_mismatched_artifact(arm_runs, vectors):
    images = vectors[0]
    fp32 = {a.format: (a, p, r) for a, p, r in arm_runs.values() if a.quantization == "none" and a.pruning == "none"}
    onnx_artifact, onnx_path, onnx_result = fp32["onnx"]
    # corrupted input: the ARM run saw the images upside down, x86 the real ones
    (flipped,) = arm64_runs.run_on_arm("onnx", [onnx_path], images[:, :, ::-1, :].copy(), count_batches=())
    _, _, wrong = arm64.parity(flipped.logits, x86_logits(onnx_artifact, onnx_path, images), "none")
    assert wrong is not None and "differs from x86" in wrong
    # mismatched artifact: the ARM logits of one artifact against the x86 logits of another
    other = next(a for a, _, _ in arm_runs.values() if a.quantization != "none")
    x86_other = x86_logits(other, arm_runs[other.name][1], images)
    rows = arm64.artifact_rows(onnx_artifact, onnx_result, x86_other, vectors[1], vectors[1], 1.0, 0.3, "qemu")
    assert [r.status for r in rows] == ["failed"] and "differs from x86" in rows[0].reason


def test_two_counts_of_the_same_artifact_are_equal(arm_runs, vectors):
    """Two fresh processes count the same call on the same image: every repeat the same count, to
    the instruction, for ONNX Runtime and for ExecuTorch (XNNPACK and portable)."""
    picks = {(a.format, a.backend): (a, p) for a, p, _ in arm_runs.values() if a.quantization == "none"}
    for (fmt, _), (artifact, path) in picks.items():
        first, second = (arm64_runs.run_on_arm(fmt, [path], vectors[0][:1], count_batches=(1,))[0] for _ in range(2))
        one, two = arm64.net_count(first, 1)[0], arm64.net_count(second, 1)[0]
        assert 10_000 < one < 100_000_000, artifact.name
        assert len(set(first.calls[1] + second.calls[1])) == 1 and one == two, (artifact.name, first, second)


def test_a_runner_line_is_json_whatever_the_path_and_the_error_hold(ready, vectors, tmp_path):
    """A manifest's folder may have quotes or backslashes in its name, and ONNX Runtime's error
    messages quote the path: the runner's line escapes them, so the error comes back as a string."""
    folder = tmp_path / 'a "quoted" \\ folder'
    folder.mkdir()
    np.ascontiguousarray(vectors[0][:1]).tofile(tmp_path / "images.f32")
    for fmt, suffix in (("onnx", ".onnx"), ("executorch", ".pte")):
        model = folder / f"broken{suffix}"
        model.write_bytes(b"not a model")
        server = arm64_runs.Server(fmt, tmp_path / "images.f32", 1, tmp_path, arm64_runs.CACHE)
        try:
            error = server.run(model, tmp_path / f"{fmt}.logits")
        finally:
            server.close()
        assert isinstance(error, str) and error and not error.startswith("runner exited"), (fmt, error)


def test_report_has_a_counted_arm64_row_per_artifact_and_recommends_the_cheapest(ready, quick_report, sample):
    code, out, report = quick_report
    rows = [r for r in report["rows"] if r["target"] == "arm64"]
    assert {r["artifact"] for r in rows} == {s for s in sample if "onnx" in s or "executorch" in s}
    rec, device = report["recommendation"]["arm64"], report["targets"]["arm64"]["device"]
    for r in rows:
        whole = r["artifact"] == rec["artifact"]  # the pick runs all 10k images, the others --quick's 300
        assert r["status"] == "ok" and r["within_budget"] is (True if whole else None), r
        assert r["accuracy_images"] == (10_000 if whole else QUICK["arm64_images"]) and r["accuracy"] > 0.9, r
        assert r["batch"] == 1 and r["threads"] == 1 and r["p50_us"] is None  # never a latency
        assert r["instructions"] > 0 and r["max_abs_diff_x86"] is not None, r
        subset = [f for f in r["flags"] if "of the test images" in f]
        assert len(subset) == (0 if whole else 1), r
        assert all(f.startswith("counts vary by") for f in set(r["flags"]) - set(subset)), r
        assert r["runtime"].startswith("onnx") or not set(r["flags"]) - set(subset), r
        assert "qemu-aarch64 version" in r["emulator"] and arm64.CPU in r["emulator"]
    assert device["whole_test_set"] == [rec["artifact"]] and device["accuracy_images"] == QUICK["arm64_images"]
    assert device["count_batches"] == [1]  # --full counts at 1 and 32, and the default report says so
    assert any(p.startswith("instruction counts at batch 32") for p in report["targets"]["arm64"]["left_out"])
    assert device["x86_logits"]  # the same artifacts on x86, on the same images at the same batch
    assert "accuracy and parity on the full test set" in report["targets"]["arm64"]["left_out"][0]
    batch1 = [r for r in rows if r["batch"] == 1]
    assert rec["instructions"] == min(r["instructions"] for r in batch1)
    markdown = (out / "latency_report.md").read_text()
    card = next(line for line in markdown.splitlines() if line.startswith("| **arm64** |"))
    assert f"`{rec['artifact']}`" in card and f"{rec['instructions'] / 1000:,.0f} k" in card  # e.g. 179 k


def test_split_counts_keeps_the_last_repeats_of_each_batch():
    """The runners mark, per batch, W + REPEATS empty pairs then W + REPEATS calls (W = their warm-up)."""
    w, r = 10, arm64_runs.REPEATS
    counts = []
    for base in (100, 3200):
        counts += [9] * w + [7] * r + [base + 50] * w + [base] * r
    markers, calls = arm64_runs.split_counts(counts, (1, 32))
    assert markers == {1: [7] * r, 32: [7] * r} and calls == {1: [100] * r, 32: [3200] * r}
    assert arm64_runs.split_counts(counts[:-1], (1, 32)) == ({}, {})  # a truncated run gives no count at all


def test_parity_bounds_per_quantization():
    rng = np.random.default_rng(0)
    x86 = (rng.standard_normal((1000, 10)) + 10 * np.eye(10)[rng.integers(0, 10, 1000)]).astype(np.float32)
    assert arm64.parity(x86 + 1e-5, x86, "none")[2] is None
    assert "differs from x86" in arm64.parity(x86 + 1e-2, x86, "none")[2]
    assert arm64.parity(x86 + rng.uniform(-0.5, 0.5, x86.shape).astype(np.float32), x86, "int8-static")[2] is None
    assert "differs from x86" in arm64.parity(x86[::-1].copy(), x86, "int8-static")[2]  # answers for other images


def test_a_parity_failure_names_only_the_rules_its_quantization_has():
    rng = np.random.default_rng(1)
    x86 = rng.standard_normal((1000, 10)).astype(np.float32)
    int8 = arm64.parity(x86[::-1].copy(), x86, "int8-dynamic")[2]
    assert int8.startswith("ARM64 differs from x86: top-1 agreement") and "logit diff" not in int8 and "inf" not in int8
    fp32 = arm64.parity(x86 + 1e-2, x86, "none")[2]
    assert "max abs logit diff 0.01 (bound 0.001)" in fp32 and "top-1 agreement 1.0000 (bound 0.999)" in fp32


def test_x86_logits_are_reused_only_from_the_same_runtime_on_the_same_file(arm_runs, vectors):
    images = vectors[0]
    artifact, path, _ = next(v for v in arm_runs.values() if v[0].format == "onnx" and v[0].quantization == "none")
    other = next(a for a, _, _ in arm_runs.values() if a.sha256 != artifact.sha256)
    fresh, source = arm64.x86_reference(artifact, path, images, 256, {})
    assert source == "onnx loader, 1 thread" and fresh.shape == (len(images), 10)
    planted = np.full_like(fresh, 7.0)  # logits no runtime computed: they show where a result came from
    runtime = arm64.x86_runtime(artifact)
    reused, source = arm64.x86_reference(artifact, path, images, 256, {(runtime, artifact.sha256): planted})
    assert reused is planted and source == f"the cpu target's accuracy pass ({runtime})"
    for wrong_key in ((runtime, other.sha256), ("onnxruntime", artifact.sha256)):
        got, source = arm64.x86_reference(artifact, path, images, 256, {wrong_key: planted})
        assert np.array_equal(got, fresh) and source == "onnx loader, 1 thread", wrong_key


def test_the_two_worker_queue_gives_each_artifact_its_own_logits_and_counts(arm_runs, vectors):
    """Logits passes go to whichever worker is free and counts to their own processes, and a result
    may queue more work: each artifact must still get the logits of its own run (those of a single
    fresh runner process), and a job added on the way runs too."""
    picks = [v for fmt in arm64.RUNNERS for v in [v for v in arm_runs.values() if v[0].format == fmt][:2]]
    models = [arm64_runs.Model(a.name, p, a.format, arm64.cost(a)) for a, p, _ in picks]
    assert {m.fmt for m in models} == {"onnx", "executorch"}
    images = vectors[0]
    sets = {"all": images, "head": images, "tail": images.copy()}  # int8-dynamic: the same batches as `alone`
    first = [arm64_runs.Job("count", m, priority=0) for m in models] + [arm64_runs.Job("logits", m, "head")
                                                                          for m in models]
    got = {}

    def then(job, result):
        got[job.kind, job.images, job.model.name] = result
        return [arm64_runs.Job("logits", job.model, "tail", priority=1)] if job.images == "head" else []
    arm64_runs.run_jobs(first, sets, 256, then)
    assert len(got) == 3 * len(models)
    for artifact, _, alone in picks:
        counted = got["count", "all", artifact.name]
        assert counted.error is None and sorted(counted.calls) == list(arm64_runs.COUNT_BATCHES), artifact.name
        assert min(counted.calls[1]) > 10_000, artifact.name
        head, tail = got["logits", "head", artifact.name], got["logits", "tail", artifact.name]
        assert head.error is None and tail.error is None, artifact.name
        assert np.array_equal(head.logits, alone.logits) and np.array_equal(tail.logits, alone.logits), artifact.name


def test_the_pick_runs_the_rest_of_the_test_set_and_the_next_one_does_when_it_fails(monkeypatch):
    """Plan on made-up results (no emulation): counts first; once all are in, the artifact with the
    fewest instructions also runs the rest of the test set; when it then fails on the whole set,
    the next one does; the others keep their subset, and their rows say so."""
    import types
    from pathlib import Path
    from runtime.manifest import Artifact, Manifest
    from runtime.targets.arm64_runs import ArmResult

    n = 20
    images = np.arange(n, dtype=np.float32).repeat(784).reshape(n, 1, 28, 28)  # image i is all i
    labels = np.arange(n) % 10

    def right(imgs):  # logits whose top-1 is the label of each image
        return np.eye(10, dtype=np.float32)[labels[imgs[:, 0, 0, 0].astype(int)]]
    monkeypatch.setattr(arm64, "x86_reference", lambda artifact, path, imgs, batch, known: (right(imgs), "x86"))
    artifacts = [Artifact(name, "onnx", "cpu", "int8-static", "none", "ok", path=f"{name}.onnx", sha256=name * 64,
                          size_bytes=1, test_accuracy=1.0) for name in "abc"]
    manifest = Manifest(Path("m.json"), Path("."), None, 1.0, 0.3, tuple(artifacts), {})
    cfg = types.SimpleNamespace(arm64_images=6, accuracy_batch=10, arm64_whole_pick=True)
    plan = arm64.Plan(artifacts, {a.name: Path(a.path) for a in artifacts}, images, labels, labels, manifest, cfg,
                      {}, "qemu")
    first = plan.first_jobs()
    assert [(j.kind, j.images, j.priority) for j in first] == [("count", "all", 0)] * 3 + [("logits", "subset", 2)] * 3
    sets = plan.image_sets()
    assert len(sets["subset"]) == 6 and len(sets["rest"]) == 14 and len(sets["all"]) == n

    def counted(instructions):
        return ArmResult(None, None, {1: [10] * 5, 32: [10] * 5}, {1: [instructions + 10] * 5, 32: [5000] * 5})
    jobs = {(j.kind, j.model.name): j for j in first}
    assert plan.then(jobs["count", "a"], counted(100)) == []
    assert plan.then(jobs["count", "c"], counted(300)) == []
    (rest_a,) = plan.then(jobs["count", "b"], counted(200))  # every count in: the fewest instructions is a
    assert (rest_a.model.name, rest_a.images, rest_a.priority) == ("a", "rest", 1)
    for name in "abc":
        assert plan.then(jobs["logits", name], ArmResult(right(sets["subset"]), None, {}, {})) == []
    wrong = np.roll(right(sets["rest"]), 1, axis=1)  # a's other 14 images all disagree with x86
    (rest_b,) = plan.then(rest_a, ArmResult(wrong, None, {}, {}))
    assert rest_b.model.name == "b" and plan.whole == ["a", "b"]
    assert plan.then(rest_b, ArmResult(right(sets["rest"]), None, {}, {})) == []
    (a,) = plan.rows["a"]  # a failed pick: one row, no counts shown
    assert a.status == "failed" and "differs from x86" in a.reason and a.accuracy_images == n
    (b,), (c,) = ([r for r in plan.rows[name] if r.batch == 1] for name in "bc")
    assert (b.accuracy_images, b.within_budget, b.instructions) == (n, True, 200)
    assert (c.accuracy_images, c.within_budget, c.instructions) == (6, None, 300)
    assert any("on 6 of the test images" in f for f in c.flags) and not any("test images" in f for f in b.flags)
