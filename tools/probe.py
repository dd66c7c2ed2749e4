"""`python -m tools.probe`: where the batch-1 time goes, one setting at a time (docs/performance.md).

Every candidate is timed with the report's harness (same warm-up, same timed calls, batch 1,
one thread) in one process, in `--rounds` rounds. Each candidate is timed right after a fresh
torch-eager timing, and its ratio is p50 / that torch-eager p50: a neighbour's load on a shared
machine then moves both sides of a ratio alike. The table shows the median ratio over rounds.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
from pathlib import Path

# numpy's OpenBLAS starts one spinning thread per core at import; with `threads = 1` everywhere
# else, the numpy candidate gets one too (it must be set before numpy is first imported).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
import torch  # noqa: E402

from common.config import add_config_flags, check_fields, config_from_args, option  # noqa: E402
from common.errors import UserError, run_cli  # noqa: E402
from export import onnx  # noqa: E402
from export.variant import check_input  # noqa: E402
from runtime import harness, runners  # noqa: E402
from runtime.manifest import read_manifest, verified_path  # noqa: E402
from train.checkpoint import load_model  # noqa: E402


class Call:
    """A bare function behind the Runner interface."""

    def __init__(self, fn) -> None:
        self.predict = fn


def numpy_forward(model) -> Call:
    """The MLP in numpy: two GEMVs, a bias add and a ReLU, no framework at all."""
    w1, b1 = model.fc1.weight.detach().numpy().T.copy(), model.fc1.bias.detach().numpy()
    w2, b2 = model.fc2.weight.detach().numpy().T.copy(), model.fc2.bias.detach().numpy()

    def predict(x):
        h = check_input(x).reshape(len(x), -1) @ w1
        h += b1
        np.maximum(h, 0, out=h)
        return h @ w2 + b2
    return Call(predict)


def ort_run(path: Path, options: ort.SessionOptions) -> Call:
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return Call(lambda x: session.run(["logits"], {"input": check_input(x)})[0])


NEEDED = ("mlp_torchscript_fp32", "mlp_onnx_fp32", "mlp_onnx_int8-dynamic", "mlp_onnx_fp32_structured")


def ok_artifacts(manifest_path: Path) -> dict[str, Path]:
    """name -> verified file of every ok artifact; the ones every probe times must be among them."""
    manifest = read_manifest(manifest_path)
    path = {a.name: verified_path(manifest, a) for a in manifest.artifacts if a.status == "ok"}
    missing = [n for n in NEEDED if n not in path]
    if missing:
        raise UserError(f"manifest {manifest_path} has no ok {missing}; the probe needs a default export "
                        f"(python -m export) with these artifacts")
    return path


def candidates(path: dict[str, Path], model) -> dict[str, object]:
    no_spin = onnx.session_options(1)
    no_spin.add_session_config_entry("session.intra_op.allow_spinning", "0")
    basic = onnx.session_options(1)
    basic.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC

    def inference_mode(x):
        with torch.inference_mode():
            return model(torch.from_numpy(check_input(x))).numpy()

    out = {
        "torch eager under inference_mode (the baseline runs without a context)": Call(inference_mode),
        "numpy forward (no runtime)": numpy_forward(model),
        "torchscript fp32": runners.load("torchscript", path["mlp_torchscript_fp32"], 1),
        "ORT session.run, default options": ort_run(path["mlp_onnx_fp32"], ort.SessionOptions()),
        "ORT session.run, ENABLE_ALL, sequential, 1 inter-op": ort_run(path["mlp_onnx_fp32"], onnx.session_options(1)),
        "ORT session.run, ENABLE_BASIC": ort_run(path["mlp_onnx_fp32"], basic),
        "ORT session.run, allow_spinning=0": ort_run(path["mlp_onnx_fp32"], no_spin),
        "ORT session.run, mlp_onnx_int8-dynamic": runners.load("onnxruntime", path["mlp_onnx_int8-dynamic"], 1),
        "ORT session.run, mlp_onnx_fp32_structured": runners.load("onnxruntime", path["mlp_onnx_fp32_structured"], 1),
    }
    for name in ("mlp_onnx_fp32", "mlp_onnx_int8-dynamic", "mlp_onnx_int8-static", "mlp_onnx_fp32_structured",
                 "mlp_onnx_int8-dynamic_structured", "mlp_onnx_fp32_unstructured"):
        if name in path:
            out[f"ORT I/O binding, {name}"] = runners.load("onnxruntime-iobinding", path[name], 1)
    for name in ("mlp_executorch-xnnpack_fp32", "mlp_executorch-xnnpack_int8-dynamic",
                 "mlp_executorch-xnnpack_fp32_structured"):
        if name in path:  # all ExecuTorch programs share one threadpool: load them all at 1 thread
            out[f"ExecuTorch {name}"] = runners.load("executorch-xnnpack", path[name], 1)
    return out


@dataclasses.dataclass(frozen=True)
class ProbeConfig:
    manifest: Path = option(Path("artifacts/manifest.json"), "manifest.json of the export whose artifacts are probed")
    checkpoint: Path = option(Path("checkpoints/mlp.pt"), "trained checkpoint: torch-eager and the numpy forward")
    rounds: int = option(3, "interleaved rounds; the table shows each candidate's median ratio over them",
                         low=1, high=1000)
    iterations: int = option(1000, "timed calls per candidate per round, after 100 warm-up calls", low=1,
                             high=10_000_000)

    def __post_init__(self) -> None:
        check_fields(self)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.probe", description=__doc__)
    add_config_flags(parser, ProbeConfig, config_file=False)
    cfg = config_from_args(ProbeConfig, "probe", parser.parse_args(argv))
    torch.set_num_threads(1)
    method = harness.Method(warmup=100, iterations=cfg.iterations, min_seconds=0, min_calls=2, cv_warn=1e9)
    path = ok_artifacts(cfg.manifest)  # before any timing: a bad manifest is one line
    model, _ = load_model(cfg.checkpoint)
    eager = runners.load("torch-eager", cfg.checkpoint, 1)
    others = candidates(path, model)
    x = np.zeros((1, 1, 28, 28), np.float32)
    ratios: dict[str, list[float]] = {name: [] for name in others}
    eager_p50 = []
    for _ in range(cfg.rounds):
        for name, runner in others.items():
            base = harness.measure(eager, x, method)[0]["p50_us"]
            eager_p50.append(base)
            ratios[name].append(harness.measure(runner, x, method)[0]["p50_us"] / base)
    print(f"torch-eager (no_grad) p50, median of its {len(eager_p50)} timings: {statistics.median(eager_p50):.1f} us; "
          f"{cfg.iterations} timed calls after 100 warm-up, batch 1, 1 thread")
    print("| candidate | p50 / torch-eager p50 (median of rounds) | per round |\n|---|---|---|")
    for name, values in ratios.items():
        print(f"| {name} | {statistics.median(values):.3f} | {', '.join(f'{v:.2f}' for v in values)} |")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
