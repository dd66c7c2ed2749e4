"""Fuzz: random, truncated and mutated checkpoints, manifests, device-results files, bench.json and
.pte files given to the CLIs, the tools' included (their main(), in-process), must each end in
exit 2 and one `error:` line, never a traceback.

Seeded, so a failure reproduces; ~900 inputs in well under a minute. Every input is bad or leads to
a missing file further on (no checkpoint, no data), so exit 2 is the only right answer for each;
a .pte with a flipped weight byte is still readable and may also give its one JSON line.
"""
from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import torch

from common.errors import run_cli
from train import checkpoint
from train.model_spec import ModelSpec, build

SEED = 1234
SHA = "ab" * 32
ODD_VALUES = (None, True, False, 0, -1, 1.5, 1e308, float("nan"), "", "x", "../../etc/passwd", [], [1, "a"], {},
              {"a": {"b": None}}, "A" * 300)


def one_error_line(capsys, code: int) -> str:
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, (code, err)
    return err


def mutations(doc, rng: random.Random, count: int):
    """`count` variants of a JSON document: a key dropped, a value of the wrong type, a list emptied."""
    for _ in range(count):
        doc2 = copy.deepcopy(doc)
        for _ in range(rng.randint(1, 3)):
            _mutate_once(doc2, rng)
        yield doc2


def _mutate_once(doc, rng: random.Random) -> None:
    node = doc
    while True:  # walk down to a random container
        children = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
        containers = [(k, v) for k, v in children if isinstance(v, (dict, list)) and v]
        if not containers or rng.random() < 0.4:
            break
        node = rng.choice(containers)[1]
    keys = list(node.keys()) if isinstance(node, dict) else list(range(len(node)))
    if not keys:
        return
    key = rng.choice(keys)
    if isinstance(node, dict) and rng.random() < 0.3:
        del node[key]
    else:
        node[key] = copy.deepcopy(rng.choice(ODD_VALUES))


def damaged_texts(text: str, rng: random.Random, count: int):
    """Truncations, random bytes and byte flips of a file's text."""
    data = text.encode()
    for i in range(count):
        kind = i % 3
        if kind == 0:
            yield data[:rng.randrange(len(data))]
        elif kind == 1:
            yield bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
        else:
            flipped = bytearray(data)
            flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
            yield bytes(flipped)


# --- checkpoints, through `python -m export` (the loader runs before anything needs data) ---

def tiny_checkpoint_bytes(tmp_path: Path) -> bytes:
    spec = ModelSpec("mlp", {"input_size": 784, "hidden_size": 4, "output_size": 10}, 10)
    torch.save({"format": checkpoint.FORMAT, "state_dict": build(spec, "test").state_dict(),
                "model": spec.record(), "train": {"seed": 0, "val_size": 10},
                "dataset": {"name": "mnist", "files": {}}, "metrics": {"test_accuracy": 0.5}}, tmp_path / "ok.pt")
    return (tmp_path / "ok.pt").read_bytes()


def test_checkpoints(tmp_path, capsys):
    from export.__main__ import main
    rng = random.Random(SEED)
    whole = tiny_checkpoint_bytes(tmp_path)
    inputs = [whole[:rng.randrange(len(whole))] for _ in range(60)]
    inputs += [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400))) for _ in range(30)]
    for _ in range(30):
        flipped = bytearray(whole)
        for _ in range(rng.randint(1, 8)):
            flipped[rng.randrange(len(flipped))] = rng.randrange(256)
        inputs.append(bytes(flipped))
    path = tmp_path / "mlp.pt"
    for data in inputs + [b""]:
        path.write_bytes(data)
        code = run_cli(main, ["--checkpoint", str(path), "--out-dir", str(tmp_path / "out"),
                              "--data-dir", str(tmp_path / "no-data")])
        one_error_line(capsys, code)
    assert "is a folder" in one_error_line(capsys, run_cli(main, ["--checkpoint", str(tmp_path)]))
    assert not (tmp_path / "out-runs").exists() or not any((tmp_path / "out-runs").iterdir())


# --- manifests and device results, through `python -m runtime` (stops at the missing checkpoint) ---

def valid_manifest() -> dict:
    row = {"name": "mlp_onnx_fp32", "format": "onnx", "backend": "cpu", "quantization": "none", "pruning": "none",
           "status": "ok", "reason": None, "path": "mlp_onnx_fp32.onnx", "sha256": SHA, "size_bytes": 3,
           "notes": [], "test_accuracy": 0.9, "parity": {"max_abs_diff": 1e-6, "top1_agreement": 1.0}}
    failed = dict(row, name="mlp_onnx_int8-static", quantization="int8-static", status="failed",
                  reason="outside tolerance", path=None, sha256=None, size_bytes=None)
    return {"schema_version": 1, "run_id": "r", "checkpoint": {"path": "c.pt", "sha256": SHA},
            "reference": {"test_accuracy": 0.97, "test_count": 10000}, "accuracy_budget_pp": 0.3,
            "fp32_tolerance": 1e-4, "test_vectors": {"path": "test_vectors.json", "sha256": SHA, "count": 32},
            "artifacts": [row, failed]}


def valid_device_results() -> dict:
    return {"target": "android", "created_utc": "2026-11-25T18:00:00Z", "device": {"model": "x"},
            "method": {"warmup": 1, "iterations": 2, "batch": 1, "threads": 1, "clock": "nanoTime"},
            "results": [{"artifact": "mlp_onnx_fp32", "sha256": SHA, "status": "ok", "reason": None,
                         "load_ms": 1.0, "first_ms": 1.0, "p50_us": 1.0, "p90_us": 2.0, "p99_us": 3.0,
                         "mean_us": 1.5, "trimmed_mean_us": 1.4,
                         "verification": {"top1_agreement": 1.0, "max_abs_diff": 0.0, "count": 32}}]}


def runtime_argv(tmp_path: Path) -> list[str]:
    return ["--manifest", str(tmp_path / "manifest.json"), "--checkpoint", str(tmp_path / "absent.pt"),
            "--out-dir", str(tmp_path / "reports"), "--device-results-dir", str(tmp_path / "dr")]


def test_manifests(tmp_path, capsys):
    from runtime.__main__ import main
    rng = random.Random(SEED)
    base = json.dumps(valid_manifest())
    texts = [json.dumps(doc) for doc in mutations(valid_manifest(), rng, 150)] + list(damaged_texts(base, rng, 60))
    for text in texts:
        (tmp_path / "manifest.json").write_bytes(text if isinstance(text, bytes) else text.encode())
        one_error_line(capsys, run_cli(main, runtime_argv(tmp_path)))
    assert not (tmp_path / "reports" / "latency_report.json").exists()


def test_device_results(tmp_path):
    """Each file is refused with one line, or gives rows the report's steps can use."""
    from common.errors import UserError
    from runtime.manifest import read_manifest
    from runtime.report import assemble
    from runtime.report.recommend import recommend
    from runtime import device_results
    from runtime.targets import TARGETS
    from runtime.targets.base import Measured
    rng = random.Random(SEED)
    (tmp_path / "manifest.json").write_text(json.dumps(valid_manifest()))
    manifest = read_manifest(tmp_path / "manifest.json")
    base = json.dumps(valid_device_results())
    texts = [json.dumps(doc) for doc in mutations(valid_device_results(), rng, 150)]
    texts += list(damaged_texts(base, rng, 60))
    refused = 0
    for text in texts:
        (tmp_path / "android.json").write_bytes(text if isinstance(text, bytes) else text.encode())
        try:
            rows, _ = device_results.device_rows("android", manifest, device_results.load("android", tmp_path))
        except UserError as e:
            assert "\n" not in str(e) and "android.json" in str(e)
            refused += 1
            continue
        assemble.add_ratios(rows, {"android": None})
        recommend(TARGETS["android"], Measured(rows=rows), None, manifest, 0.98)
        assemble.problems(rows)
    assert refused > len(texts) // 2  # most mutations break the schema; the rest must still work


def test_manifests_through_embed(tmp_path, capsys):
    from export.embed import main
    rng = random.Random(SEED + 1)
    path = tmp_path / "manifest.json"
    for doc in mutations(valid_manifest(), rng, 60):
        path.write_text(json.dumps(doc))
        code = run_cli(main, ["--manifest", str(path), "--names", "mlp_onnx_fp32",
                              "--assets-dir", str(tmp_path / "assets"), "--web-dir", str(tmp_path / "web")])
        one_error_line(capsys, code)
    assert not (tmp_path / "assets").exists() and not (tmp_path / "web").exists()


# --- the tools: tools.bench --reuse, tools.probe and tools.pte_info ---

def valid_bench_json() -> dict:
    return {"machine": {}, "reused": False,
            "models": {"mlp": {"stages": {"train": [0, 41.5], "export": [0, 90.25]}}},
            "checks": [{"target": "t", "value": 1.0, "limit": "<= 2", "ok": True, "detail": ""}]}


def bench_reuse(tmp_path: Path, bench_text: bytes, manifest_text: bytes) -> list[str]:
    """A folder as `--reuse` reads it; its checkpoint is empty, so an input that passes still ends in
    exit 2 (before `python -m runtime` would run)."""
    (tmp_path / "checkpoints").mkdir(exist_ok=True)
    (tmp_path / "checkpoints" / "mlp.pt").write_bytes(b"")
    (tmp_path / "artifacts").mkdir(exist_ok=True)
    (tmp_path / "artifacts" / "manifest.json").write_bytes(manifest_text)
    (tmp_path / "bench.json").write_bytes(bench_text)
    return ["--reuse", "--out-dir", str(tmp_path)]


def test_bench_reuse(tmp_path, capsys):
    from tools.bench import main
    rng = random.Random(SEED + 2)
    manifest = json.dumps(valid_manifest()).encode()
    benches = [json.dumps(d).encode() for d in mutations(valid_bench_json(), rng, 60)]
    benches += list(damaged_texts(json.dumps(valid_bench_json()), rng, 30))
    manifests = [json.dumps(d).encode() for d in mutations(valid_manifest(), rng, 60)]
    manifests += list(damaged_texts(manifest.decode(), rng, 30))
    bench = json.dumps(valid_bench_json()).encode()
    for bench_text, manifest_text in [(b, manifest) for b in benches] + [(bench, m) for m in manifests]:
        one_error_line(capsys, run_cli(main, bench_reuse(tmp_path, bench_text, manifest_text)))
    assert not (tmp_path / "reports").exists()  # every input was refused before the report ran


def test_probe_manifests(tmp_path, capsys):
    from tools.probe import main
    rng = random.Random(SEED + 3)
    texts = [json.dumps(d).encode() for d in mutations(valid_manifest(), rng, 60)]
    texts += list(damaged_texts(json.dumps(valid_manifest()), rng, 30)) + [json.dumps(valid_manifest()).encode()]
    for text in texts:
        (tmp_path / "manifest.json").write_bytes(text)
        one_error_line(capsys, run_cli(main, ["--manifest", str(tmp_path / "manifest.json"),
                                              "--checkpoint", str(tmp_path / "absent.pt")]))


def tiny_pte(tmp_path: Path) -> bytes:
    from export import executorch
    from export.variant import Variant
    model = build(ModelSpec("mlp", {"input_size": 784, "hidden_size": 4, "output_size": 10}, 10), "test")
    executorch.build(model, Variant("executorch", "xnnpack"), torch.zeros(2, 1, 28, 28), tmp_path / "tiny.pte")
    return (tmp_path / "tiny.pte").read_bytes()


def test_pte_files(tmp_path, capsys):
    """Truncated, random and byte-flipped .pte files: one `error:` line, or (a flip in the weights
    leaves it readable) one JSON line; never a traceback."""
    from tools.pte_info import main
    rng = random.Random(SEED + 4)
    whole = tiny_pte(tmp_path)
    capsys.readouterr()  # what exporting it logged
    inputs = [whole[:rng.randrange(len(whole))] for _ in range(20)]
    inputs += [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400))) for _ in range(10)]
    for _ in range(20):
        flipped = bytearray(whole)
        flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
        inputs.append(bytes(flipped))
    path = tmp_path / "damaged.pte"
    readable = 0
    for data in inputs + [b""]:
        path.write_bytes(data)
        code = run_cli(main, [str(path)])
        if code == 0:
            out = capsys.readouterr().out
            assert out.count("\n") == 1 and json.loads(out)["file"] == "damaged.pte"
            readable += 1
        else:
            one_error_line(capsys, code)
    assert readable < len(inputs) // 2
    for absent in (tmp_path / "absent.pte", tmp_path):
        one_error_line(capsys, run_cli(main, [str(absent)]))
