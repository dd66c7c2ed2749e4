"""runtime/report/recommend.py: the one recommendation per target and device, its runner-up and why."""
from pathlib import Path

from runtime.manifest import Artifact, Manifest
from runtime.report.recommend import recommend
from runtime.report.rows import Row
from runtime.targets.base import Measured, Target


def target(name="cpu", metric="p50_us", baseline="torch-eager") -> Target:
    return Target(name=name, title=name.upper(), metric=metric, metric_label="the figure", baseline=baseline,
                  how_to_measure=f"measure {name}", unavailable=lambda ctx: None, measure=lambda ctx: None)


def artifact(name, quantization="none", size=1000, accuracy=0.98):
    return Artifact(name, "onnx", "cpu", quantization, "none", "ok", path=f"{name}.onnx", sha256="0" * 64,
                    size_bytes=size, test_accuracy=accuracy)


MANIFEST = Manifest(path=Path("m.json"), folder=Path("."), checkpoint_sha256=None, reference_accuracy=0.98,
                    accuracy_budget_pp=0.3, raw={},
                    artifacts=(artifact("fp"), artifact("q8", "int8-dynamic", 260, 0.979),
                               artifact("bad", "int8-static", 250, 0.90)))


def row(artifact, runtime, p50, **kw):
    values = {"target": "cpu", "batch": 1, "threads": 1, "accuracy": 0.98, "within_budget": True, **kw}
    return Row(artifact=artifact, runtime=runtime, p50_us=p50, format="onnx", backend="cpu",
               size_bytes={"fp": 1000, "q8": 260, "bad": 250}.get(artifact), **values)


def test_the_fastest_within_budget_wins_with_its_runner_up_accuracy_and_size():
    rows = [row("checkpoint", "torch-eager", 100.0), row("fp", "onnxruntime", 40.0),
            row("q8", "onnxruntime", 30.0, accuracy=0.979),
            row("bad", "onnxruntime", 10.0, accuracy=0.90, within_budget=False),
            row("q8", "onnxruntime", 5.0, threads=2)]  # 2 threads: not a candidate
    card = recommend(target(), Measured(rows=rows), None, MANIFEST, 0.98)["cpu"]
    assert (card.best.artifact, card.runner_up.artifact) == ("q8", "fp")
    assert card.why == "lowest the figure: 30.0 us against 40.0 us for fp via onnxruntime"
    assert round(card.drop_pp, 3) == 0.1 and card.budget_pp == 0.3 and card.accuracy_source == "measured"
    assert (card.fp32_artifact, card.size_vs_fp32) == ("fp", 0.26)


def test_an_interleaved_comparison_ranks_before_the_rows_p50():
    rows = [row("fp", "onnxruntime", 40.0), row("q8", "onnxruntime", 30.0)]
    comparison = {"rounds": 200, "candidates": [
        {"artifact": "fp", "runtime": "onnxruntime", "ratio": 0.30, "ratio_ci95": [0.29, 0.31]},
        {"artifact": "q8", "runtime": "onnxruntime", "ratio": 0.35, "ratio_ci95": [0.34, 0.36]}]}
    card = recommend(target(), Measured(rows=rows, ranking=comparison), None, MANIFEST, 0.98)["cpu"]
    assert card.best.artifact == "fp" and card.best.interleaved_ratio_ci95 == [0.29, 0.31]
    assert card.why.startswith("lowest median ratio to torch-eager over 200 interleaved rounds: 0.300x")
    flat = card.to_dict()
    assert (flat["artifact"], flat["interleaved_ratio"], flat["p50_us"]) == ("fp", 0.30, 40.0)


def test_device_rows_get_one_card_per_device_and_the_exports_accuracy():
    android = target("android", baseline=None)
    rows = [row("fp", "ort-android", 90.0, target="android", device="Pixel 8 (a)", threads=None, accuracy=None,
                within_budget=None),
            row("bad", "ort-android", 10.0, target="android", device="Pixel 8 (a)", threads=None, accuracy=None,
                within_budget=None),  # over the budget by the export's verdict
            row("q8", "ort-android", 70.0, target="android", device="Galaxy S24 (b)", threads=None, accuracy=None,
                within_budget=None)]
    cards = recommend(android, Measured(rows=rows), None, MANIFEST, 0.98)
    assert set(cards) == {"android Pixel 8 (a)", "android Galaxy S24 (b)"}
    pixel = cards["android Pixel 8 (a)"]
    assert pixel.best.artifact == "fp" and pixel.runner_up is None and pixel.accuracy_source == "export"
    assert pixel.why == "the only ok artifact within the accuracy budget"


def test_a_target_not_measured_says_why_and_how_and_one_with_no_candidate_says_so():
    cuda = target("cuda")
    card = recommend(cuda, None, "no CUDA device", MANIFEST, 0.98)["cuda"]
    assert (card.measured, card.reason, card.how_to_measure, card.best) == (False, "no CUDA device", "measure cuda", None)
    empty = recommend(cuda, Measured(rows=[row("bad", "onnxruntime", 1.0, target="cuda", within_budget=False)]),
                      None, MANIFEST, 0.98)["cuda"]
    assert empty.measured and empty.best is None and "no ok artifact within the accuracy budget" in empty.reason


def test_arm64_ranks_by_instructions():
    arm = target("arm64", metric="instructions", baseline=None)
    rows = [row("fp", "ort-aarch64", None, target="arm64", instructions=300_000),
            row("q8", "ort-aarch64", None, target="arm64", instructions=70_000)]
    card = recommend(arm, Measured(rows=rows), None, MANIFEST, 0.98)["arm64"]
    assert card.best.artifact == "q8" and card.to_dict()["instructions"] == 70_000
    assert "70,000 instructions against 300,000 instructions" in card.why
