"""Python (the reference), Java (the Android app's core) and JavaScript (the web demo) agree:
same tensor from the same drawing, same latency statistics, same reading of the manifest, same
rule for a quantized artifact's top-1 flips (export/verify.py's allowed_flips)."""
from __future__ import annotations

import numpy as np
import pytest

from export.verify import QUANTIZED_CHECK, allowed_flips
from mobile_demo.preprocess import normalize, to_input, to_pixels
from runtime.stats import percentile, trimmed_mean
from tests.mobile_demo.conftest import node_core, write_pgm


def _drawings(vectors: dict) -> dict[str, np.ndarray]:
    """Stroke-like images: real MNIST test digits blown up 10x, moved off-centre, and edge cases."""
    digits = [np.asarray(p, dtype=np.uint8).reshape(28, 28) for p in vectors["pixels"][:3]]
    out = {f"digit{k}_x10": np.kron(d, np.ones((10, 10), dtype=np.uint8)) for k, d in enumerate(digits)}
    canvas = np.zeros((300, 400), dtype=np.uint8)
    canvas[150:234, 300:384] = np.kron(digits[1], np.ones((3, 3), dtype=np.uint8))
    out["digit1_corner_x3"] = canvas
    tiny = np.zeros((50, 50), dtype=np.uint8)
    tiny[20:22, 30:33] = [[255, 128, 7], [1, 255, 255]]
    out["tiny"] = tiny
    wide = np.zeros((120, 280), dtype=np.uint8)
    wide[60:70, 10:270] = 200
    out["wide_bar"] = wide
    out["empty"] = np.zeros((40, 40), dtype=np.uint8)
    return out


@pytest.fixture(scope="module")
def drawings(embedded) -> dict[str, np.ndarray]:
    import json
    return _drawings(json.loads((embedded.assets / "test_vectors.json").read_text()))


def test_java_preprocessing_equals_python(java_cli, embedded, drawings, tmp_path):
    manifest = embedded.manifest(embedded.assets)
    for name, gray in drawings.items():
        got = java_cli("preprocess", str(write_pgm(tmp_path / f"{name}.pgm", gray)),
                       str(embedded.assets / "manifest.json"))
        want = to_input(gray, manifest).ravel()
        assert np.array_equal(np.asarray(got["pixels"]), to_pixels(gray, 28).ravel()), name
        assert np.array_equal(np.asarray(got["input"], dtype=np.float32), want), name


def test_javascript_preprocessing_equals_python(web_tools, embedded, drawings):
    norm = embedded.manifest(embedded.models)["input"]["normalization"]
    calls = [[gray.ravel().tolist(), gray.shape[1], gray.shape[0], 28] for gray in drawings.values()]
    pixels = node_core("toPixels", calls)
    inputs = node_core("normalize", [[p, norm] for p in pixels])
    for (name, gray), px, x in zip(drawings.items(), pixels, inputs):
        ref = to_pixels(gray, 28)
        assert np.array_equal(np.asarray(px), ref.ravel()), name
        want = normalize(ref, norm["scale"], norm["mean"][0], norm["std"][0]).ravel()
        assert np.array_equal(np.asarray(x, dtype=np.float32), want), name


def _samples() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    # Latency-like: log-normal around 50 us with a few scheduler spikes; odd and even sizes.
    return [np.concatenate([rng.lognormal(np.log(50), 0.2, n - 3), [900.0, 1500.0, 3.0]]) for n in (1000, 37, 5)]


def _python_stats(us: np.ndarray) -> dict[str, float]:
    return {"p50_us": percentile(us, 50), "p90_us": percentile(us, 90), "p99_us": percentile(us, 99),
            "mean_us": float(us.mean()), "trimmed_mean_us": trimmed_mean(us)}


def test_java_latency_stats_equal_runtime_stats(java_cli):
    for us in _samples():
        got = java_cli("stats", stdin=" ".join(repr(float(v)) for v in us))
        for key, want in _python_stats(us).items():
            assert got[key] == pytest.approx(want, rel=1e-12), (len(us), key)


def test_javascript_latency_stats_equal_runtime_stats(web_tools):
    samples = _samples()
    for us, got in zip(samples, node_core("latencyStats", [[us.tolist()] for us in samples])):
        for key, want in _python_stats(us).items():
            assert got[key] == pytest.approx(want, rel=1e-12), (len(us), key)


def test_app_reads_input_and_assets_as_the_manifest_says(java_cli, embedded):
    from common.files import sha256_file
    manifest = embedded.manifest(embedded.assets)
    app = java_cli("manifest", str(embedded.assets / "manifest.json"))
    inp = manifest["input"]
    assert app["input_name"] == inp["name"]
    assert app["input_shape"] == [1] + inp["shape"][1:]
    assert app["normalization"] == {"scale": inp["normalization"]["scale"],
                                    "mean": inp["normalization"]["mean"][0], "std": inp["normalization"]["std"][0]}
    assert app["classes"] == manifest["dataset"]["classes"]
    assert [a["name"] for a in app["runnable"]] == embedded.names
    for a in app["runnable"]:
        assert sha256_file(embedded.assets / a["path"]) == a["sha256"], a["name"]
    assert (embedded.assets / app["test_vectors"]).is_file()
    assert app["executorch_exporter"] == manifest["versions"]["executorch"], "the app names it when a .pte fails"


COUNTS = (0, 1, 2, 5, 10, 32, 100, 1000, 10_000)  # 10k: the whole test set, the most vectors an export writes


def test_both_demos_get_the_rule_from_the_embedded_manifest(embedded):
    for folder in (embedded.assets, embedded.models):
        assert embedded.manifest(folder)["test_vectors"]["quantized_check"] == QUANTIZED_CHECK


def test_java_flips_rule_equals_python(java_cli, embedded):
    got = java_cli("flips", str(embedded.assets / "manifest.json"), *map(str, COUNTS))
    assert got == [allowed_flips(n, **QUANTIZED_CHECK) for n in COUNTS]


def test_javascript_flips_rule_equals_python(web_tools, embedded):
    rule = embedded.manifest(embedded.models)["test_vectors"]["quantized_check"]
    assert node_core("allowedFlips", [[n, rule] for n in COUNTS]) == [allowed_flips(n, **rule) for n in COUNTS]


def _flipped(logits: list[list[float]], flips: int) -> list[list[float]]:
    """The first `flips` rows with their top-1 moved to another class (its logit raised above all)."""
    out = [list(row) for row in logits]
    for row in out[:flips]:
        row[(int(np.argmax(row)) + 1) % len(row)] = max(row) + 1.0
    return out


def test_javascript_judges_quantized_flips_by_the_rule(web_tools, embedded):
    import json
    real = json.loads((embedded.models / "test_vectors.json").read_text())  # 32 real MNIST test images
    rule = embedded.manifest(embedded.models)["test_vectors"]["quantized_check"]
    k = allowed_flips(real["count"], **rule)
    ten = {"count": 10, "expected_logits": real["expected_logits"][:10], "tolerance": real["tolerance"]}
    calls = [[_flipped(real["expected_logits"], k), real, rule], [_flipped(real["expected_logits"], k + 1), real, rule],
             # 2 flips of 10: a fixed 0.9 agreement (0.8) failed these, the binomial rule allows them
             [_flipped(ten["expected_logits"], 2), ten, rule], [_flipped(ten["expected_logits"], 3), ten, rule],
             [_flipped(real["expected_logits"], 1), real, None]]
    assert [r["passed"] for r in node_core("compare", calls)] == [True, False, True, False, False]
