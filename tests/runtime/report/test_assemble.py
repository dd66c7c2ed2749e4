"""runtime/report/assemble.py on hand-made rows: ratios, the int8 flag, problems, regressions."""
from runtime.report.assemble import add_ratios, flag_slow_int8, problems, regressions, warnings
from runtime.report.rows import Row

BASELINES = {"cpu": "torch-eager"}


def row(artifact, runtime, p50, quantization="none", batch=1, threads=1, **kw):
    values = {"accuracy": 0.98, "within_budget": True, **kw}
    return Row(artifact=artifact, runtime=runtime, target="cpu", batch=batch, threads=threads, p50_us=p50,
               format="onnx", backend="cpu", quantization=quantization, pruning="none", **values)


def sample_rows():
    return [row("checkpoint", "torch-eager", 100.0), row("checkpoint", "torch-eager", 400.0, threads=2),
            row("fp", "onnxruntime", 40.0), row("q8", "onnxruntime", 50.0, quantization="int8-dynamic"),
            row("fp", "onnxruntime", 100.0, threads=2), row("q8", "onnxruntime", 60.0, "int8-static", threads=2)]


def test_ratio_to_eager_uses_the_same_batch_and_threads():
    rows = sample_rows()
    add_ratios(rows, BASELINES)
    assert [r.ratio_to_eager for r in rows] == [1.0, 1.0, 0.4, 0.5, 0.25, 0.15]


def test_a_target_without_a_baseline_gets_no_ratio():
    rows = [Row(target="browser-wasm", artifact="fp", runtime="onnxruntime-web", batch=1, p50_us=90.0)]
    add_ratios(rows, {**BASELINES, "browser-wasm": None})
    assert rows[0].ratio_to_eager is None


def test_int8_slower_than_its_fp32_sibling_is_flagged():
    rows = sample_rows()
    flag_slow_int8(rows)
    assert "int8 slower than its fp32 sibling fp (50.0 us vs 40.0 us p50)" in rows[3].flags
    assert rows[5].flags == []  # int8 at 2 threads is faster than fp32 there


def test_failed_and_over_budget_rows_are_problems_and_stale_ones_warnings():
    rows = sample_rows() + [row("tiny", "onnxruntime", 10.0, accuracy=0.5, within_budget=False),
                            Row(target="cpu", artifact="x", runtime="onnxruntime", status="failed", reason="boom"),
                            Row(target="android", artifact="fp", runtime="executorch-android", device="Pixel 8 (a1)",
                                status="stale", reason="measured on a different build")]
    assert problems(rows) == ["tiny via onnxruntime (cpu): accuracy 0.5000 is over the accuracy budget",
                              "x via onnxruntime (cpu): failed: boom"]
    assert warnings(rows) == ["fp via executorch-android (android, Pixel 8 (a1)): stale: measured on a different build"]


def test_regressions_list_slower_less_accurate_and_broken_rows():
    old = [r.to_dict() for r in sample_rows()]
    new = sample_rows()
    new[2].p50_us = 60.0                  # 1.5x slower: over a 20% tolerance
    new[3].p50_us = 55.0                  # 1.1x: within it
    new[4].status, new[4].reason = "failed", "boom"
    new[5].accuracy = 0.97                # 1 pp lower
    found = {(g["artifact"], g["threads"], g["kind"]) for g in regressions(new, old, tolerance=0.2)}
    assert found == {("fp", 1, "p50_us"), ("fp", 2, "status"), ("q8", 2, "accuracy")}


def test_a_pair_that_failed_before_timing_regresses_once_against_all_its_old_rows():
    old = [r.to_dict() for r in sample_rows()]
    new = [r for r in sample_rows() if r.artifact != "fp"]
    new.append(Row(artifact="fp", runtime="onnxruntime", target="cpu", status="failed", reason="sha256 mismatch"))
    found = regressions(new, old, tolerance=0.2)
    assert [(g["artifact"], g["kind"], g["batch"], g["detail"]) for g in found] == [
        ("fp", "status", None, "sha256 mismatch")]
