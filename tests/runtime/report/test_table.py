"""runtime/report/table.py and view.py on a hand-made report: one row per artifact, one column per
measured target and device, the fastest runtime first, statuses and what a default report omits."""
from __future__ import annotations

from runtime.report import table, view
from runtime.report.rows import Row

BLOCKS = {
    "cpu": {"title": "CPU", "metric": "p50_us", "metric_label": "p50 at batch 1", "baseline": "torch-eager",
            "measured": True, "reason": None, "how_to_measure": "python -m runtime --targets cpu", "device": None},
    "arm64": {"title": "ARM64", "metric": "instructions", "metric_label": "instructions", "baseline": None,
              "measured": True, "reason": None, "how_to_measure": "make arm64", "device": None},
    "android": {"title": "Android", "metric": "p50_us", "metric_label": "p50 on the phone", "baseline": None,
                "measured": True, "reason": None, "how_to_measure": "python -m runtime.android", "device": None},
    "cuda": {"title": "GPU", "metric": "p50_us", "metric_label": "p50", "baseline": "torch-eager-cuda",
             "measured": False, "reason": "no CUDA device", "how_to_measure": "python -m runtime --targets cuda",
             "device": None},
}


def artifact(name, quantization="none", status="ok", size=1000, reason=None):
    return {"name": name, "format": "onnx", "backend": "cpu", "quantization": quantization, "pruning": "none",
            "status": status, "reason": reason, "size_bytes": size if status == "ok" else None,
            "test_accuracy": 0.98 if status == "ok" else None, "parity": None}


def cpu(name, runtime, p50, batch=1, **kw):
    return Row(target="cpu", artifact=name, runtime=runtime, batch=batch, threads=1, p50_us=p50,
               throughput=batch / p50 * 1e6, accuracy=0.98, top1_agreement=0.99, accuracy_images=10_000, **kw)


def report(rows, artifacts, full=None):
    left_out = {"cpu": ["batch 32: --full times batches 1, 32 and 256"]} if full is False else {}
    return {"targets": BLOCKS, "rows": [r.to_dict() for r in rows], "artifacts": artifacts, "config": {},
            "method": {"left_out": left_out},
            "recommendation": {"cpu": {"best": {"artifact": "q8", "runtime": "onnxruntime-iobinding"}}},
            "reference": {"accuracy": 0.981, "test_count": 10_000}, "manifest": {"accuracy_budget_pp": 0.3},
            "compression_search": {"summary": None, "artifacts": {}}}


ROWS = [cpu("checkpoint", "torch-eager", 100.0, ratio_to_eager=1.0),
        cpu("fp", "onnxruntime", 40.0, ratio_to_eager=0.4),
        cpu("fp", "onnxruntime-iobinding", 30.0, ratio_to_eager=0.3),
        cpu("q8", "onnxruntime-iobinding", 10.0, ratio_to_eager=0.1),
        cpu("q8", "onnxruntime-iobinding", 800.0, batch=256),
        Row(target="arm64", artifact="fp", runtime="onnxruntime-iobinding-aarch64", batch=1, threads=1,
            instructions=311_108),
        Row(target="android", artifact="fp", runtime="onnxruntime-android", device="Pixel 8 (a1)", batch=1,
            p50_us=90.0),
        Row(target="android", artifact="fp", runtime="onnxruntime-android", device="Pixel 6 (b2)", status="stale",
            reason="measured on another build", batch=1, p50_us=95.0)]
ARTIFACTS = [artifact("fp"), artifact("q8", "int8-dynamic", size=250),
             artifact("st", "int8-static", status="unsupported", reason="not for this format")]


def test_one_row_per_artifact_and_one_column_per_measured_target_and_device():
    t = table.artifact_table(report(ROWS, ARTIFACTS))
    assert [r.name for r in t.rows] == ["checkpoint", "fp", "q8", "st"]
    keys = [c.key for c in t.columns]
    assert keys[-1] == "status" and "cuda:p50_us" not in keys, "cuda measured nothing: its card says why"
    for key in ("cpu:p50_us", "cpu:speedup", "cpu:throughput", "arm64:instructions",
                "android Pixel 8 (a1):p50_us", "android Pixel 6 (b2):p50_us"):
        assert key in keys, key
    assert any("cuda" in note for note in t.notes)


def test_a_cell_shows_the_fastest_runtime_and_the_others_below_it():
    rows = {r.name: r for r in table.artifact_table(report(ROWS, ARTIFACTS)).rows}
    fp = rows["fp"].cells
    assert (fp["cpu:p50_us"].text, fp["cpu:p50_us"].sort) == ("30 µs", 30.0)
    assert fp["cpu:p50_us"].sub == ("onnxruntime-iobinding", "40 µs onnxruntime")
    assert fp["cpu:speedup"].text == "3.33×" and rows["q8"].cells["cpu:speedup"].text == "10.0×"
    assert fp["arm64:instructions"].text == "311 k" and fp["arm64:instructions"].sort == 311_108
    assert fp["android Pixel 6 (b2):p50_us"].text == "stale"
    assert rows["q8"].cells["cpu:throughput"].text == "320,000"
    assert rows["q8"].cells["size"].sub == ("25% of fp32",) and rows["q8"].recommended == ("cpu",)


def test_statuses_reasons_and_the_accuracy_delta():
    rows = {r.name: r for r in table.artifact_table(report(ROWS, ARTIFACTS)).rows}
    assert (rows["st"].status, rows["st"].reason) == ("unsupported", "not for this format")
    assert rows["st"].cells["cpu:p50_us"].text == "–" and rows["st"].cells["cpu:p50_us"].sort is None
    assert rows["checkpoint"].baseline and rows["checkpoint"].status == "baseline"
    assert rows["fp"].cells["delta"].text == "-0.10" and not rows["fp"].cells["delta"].bad
    failed = ROWS + [Row(target="cpu", artifact="q8", runtime="onnxruntime", status="failed", reason="sha256 differs")]
    q8 = next(r for r in table.artifact_table(report(failed, ARTIFACTS)).rows if r.name == "q8")
    assert q8.status == "failed" and q8.reason == "cpu: sha256 differs" and q8.cells["status"].bad


def test_a_default_report_names_what_only_the_full_one_measures():
    assert not table.artifact_table(report(ROWS, ARTIFACTS)).notes[1:]
    t = table.artifact_table(report(ROWS, ARTIFACTS, full=False))
    assert any(view.NOT_IN_DEFAULT in note for note in t.notes)
    fp = next(r for r in t.rows if r.name == "fp")
    assert any(view.NOT_IN_DEFAULT in d.note for d in fp.details.tables), "the folded figures say it too"


def test_figures_read_as_people_write_them():
    assert [view.us(v) for v in (9.022, 114.4, 1234.0, 12_345.0, None)] == ["9.02 µs", "114 µs", "1,234 µs",
                                                                           "12.3 ms", "–"]
    assert [view.count(v) for v in (311_108, 1_827_243, 32_016, 950)] == ["311 k", "1.83 M", "32.0 k", "950"]
    assert [view.size(v) for v in (144_809, 2_548_930)] == ["141 KiB", "2.43 MiB"]
    assert view.pp(-0.001) == "+0.00" and view.pp(-0.114) == "-0.11"
