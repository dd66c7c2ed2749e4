"""runtime/report.py on hand-made rows: ratios, the int8 flag, the recommendation, regressions."""
from runtime.report import add_ratios, flag_slow_int8, problems, recommend, regressions
from runtime.rows import make_row


def row(artifact, runtime, p50, quantization="none", batch=1, threads=1, **kw):
    values = {"accuracy": 0.98, "within_budget": True, **kw}
    return make_row(artifact=artifact, runtime=runtime, target="cpu", batch=batch, threads=threads, p50_us=p50,
                    format="onnx", backend="cpu", quantization=quantization, pruning="none", **values)


def sample_rows():
    return [row("checkpoint", "torch-eager", 100.0), row("checkpoint", "torch-eager", 400.0, threads=2),
            row("fp", "onnxruntime", 40.0), row("q8", "onnxruntime", 50.0, quantization="int8-dynamic"),
            row("fp", "onnxruntime", 100.0, threads=2), row("q8", "onnxruntime", 60.0, "int8-static", threads=2)]


def test_ratio_to_eager_uses_the_same_batch_and_threads():
    rows = sample_rows()
    add_ratios(rows)
    assert [r["ratio_to_eager"] for r in rows] == [1.0, 1.0, 0.4, 0.5, 0.25, 0.15]


def test_int8_slower_than_its_fp32_sibling_is_flagged():
    rows = sample_rows()
    flag_slow_int8(rows)
    assert "int8 slower than its fp32 sibling fp (50.0 us vs 40.0 us p50)" in rows[3]["flags"]
    assert rows[5]["flags"] == []  # int8 at 2 threads is faster than fp32 there


def test_recommendation_is_the_fastest_batch1_single_thread_artifact_within_budget():
    rows = sample_rows()
    rows.append(row("tiny", "onnxruntime", 10.0, accuracy=0.5, within_budget=False))
    add_ratios(rows)
    rec = recommend(rows, budget_ok={})["cpu"]
    assert (rec["artifact"], rec["p50_us"], rec["ratio_to_eager"]) == ("fp", 40.0, 0.4)
    assert problems(rows) == ["tiny via onnxruntime (cpu): accuracy 0.5000 is over the accuracy budget"]


def test_regressions_list_slower_less_accurate_and_broken_rows():
    old = sample_rows()
    new = sample_rows()
    new[2]["p50_us"] = 60.0                  # 1.5x slower: over a 20% tolerance
    new[3]["p50_us"] = 55.0                  # 1.1x: within it
    new[4].update(status="failed", reason="boom")
    new[5]["accuracy"] = 0.97                # 1 pp lower
    found = {(g["artifact"], g["threads"], g["kind"]) for g in regressions(new, old, tolerance=0.2)}
    assert found == {("fp", 1, "p50_us"), ("fp", 2, "status"), ("q8", 2, "accuracy")}


def test_a_pair_that_failed_before_timing_regresses_once_against_all_its_old_rows():
    old = sample_rows()
    new = [r for r in sample_rows() if r["artifact"] != "fp"]
    new.append(make_row(artifact="fp", runtime="onnxruntime", target="cpu", status="failed", reason="sha256 mismatch"))
    found = regressions(new, old, tolerance=0.2)
    assert [(g["artifact"], g["kind"], g["batch"], g["detail"]) for g in found] == [
        ("fp", "status", None, "sha256 mismatch")]
