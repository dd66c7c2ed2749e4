"""The aarch64 ONNX Runtime runner: runs inside the emulated arm64 Python with only numpy and
onnxruntime's aarch64 wheels on its path (no project code, no torch).

    python3.11 ort_runner.py IMAGES.f32 BATCH COUNT_BATCHES REPEATS [MODEL.onnx LOGITS.f32 ...]

The same protocol as pte_runner.cpp: for each model (from the arguments, or with none there one
"MODEL<tab>LOGITS" line at a time from stdin until it closes, so one process serves a queue), all images of IMAGES.f32 (raw float32
[N, 1, 28, 28]) through the session in chunks of BATCH, logits to LOGITS.f32; then for each
batch size in COUNT_BATCHES, 3 untimed calls, WARM + REPEATS empty marker pairs, and WARM + REPEATS calls
each between a start and a stop marker (markers.h: umask with a tag in the bits the kernel ignores);
one JSON line per model. The counted call is `run_with_iobinding` on buffers bound once, ONNX
Runtime's lowest-overhead Python path (export/onnx.py OrtRunner does the same on x86). One intra-op
and one inter-op thread. Models share one process because each emulated Python start costs
seconds.
"""
import gc
import json
import os
import sys

import numpy as np
import onnxruntime as ort

MARKER_MAGIC, MARKER_START, MARKER_STOP = 0x4D4E, 1, 2
WARM = 10  # marked pairs before the counted ones, whose counts the caller drops


def marker(command: int, mask: int) -> None:
    os.umask((MARKER_MAGIC << 16) | (command << 12) | mask)


def session(path: str) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def bind(sess: ort.InferenceSession, x: np.ndarray) -> tuple[ort.IOBinding, np.ndarray]:
    y = np.zeros((x.shape[0], sess.get_outputs()[0].shape[-1]), dtype=np.float32)
    binding = sess.io_binding()
    binding.bind_ortvalue_input(sess.get_inputs()[0].name, ort.OrtValue.ortvalue_from_numpy(x))
    binding.bind_ortvalue_output(sess.get_outputs()[0].name, ort.OrtValue.ortvalue_from_numpy(y))
    return binding, y


def count(sess: ort.InferenceSession, images: np.ndarray, batch: int, repeats: int) -> int:
    """The marked calls at one batch size; returns the number of marker pairs made.

    Python 3.11 specializes bytecode after a few runs of it, which changes the instructions an
    identical call takes: WARM marked pairs and calls run first, their counts discarded."""
    binding, _ = bind(sess, np.ascontiguousarray(images[:batch]))
    gc.collect()
    gc.disable()  # as timeit does: a cyclic collection inside a counted call is not the runtime's cost
    mask = os.umask(0o022)
    os.umask(mask)
    for _ in range(3):
        sess.run_with_iobinding(binding)
    for _ in range(WARM + repeats):
        marker(MARKER_START, mask)
        marker(MARKER_STOP, mask)
    for _ in range(WARM + repeats):
        marker(MARKER_START, mask)
        sess.run_with_iobinding(binding)
        marker(MARKER_STOP, mask)
    gc.enable()
    return 2 * (WARM + repeats)


def run_model(model: str, logits_path: str, images: np.ndarray, batch: int, count_batches: list[int],
              repeats: int) -> dict:
    intervals = 0
    try:
        sess = session(model)
        name = sess.get_inputs()[0].name
        logits = [sess.run(None, {name: images[i:i + batch]})[0] for i in range(0, len(images), batch)]
        np.concatenate(logits).astype(np.float32).tofile(logits_path)
        for b in count_batches:
            intervals += count(sess, images, b, repeats)
    except Exception as e:  # reported per model on stdout; the caller makes it a failed row
        return {"model": model, "error": f"{type(e).__name__}: {e}".splitlines()[0], "intervals": intervals}
    return {"model": model, "error": None, "intervals": intervals, "threads": 1}


def stdin_pairs():
    """(model, logits) pairs, one tab-separated line each, as the caller writes them."""
    for line in iter(sys.stdin.readline, ""):
        model, logits_path = line.rstrip("\n").split("\t")
        yield model, logits_path


def main(images_path: str, batch: str, count_batches: str, repeats: str, *pairs: str) -> None:
    images = np.fromfile(images_path, dtype=np.float32).reshape(-1, 1, 28, 28)
    batches = [int(b) for b in count_batches.split(",") if b]
    for model, logits_path in zip(pairs[::2], pairs[1::2]) if pairs else stdin_pairs():
        print(json.dumps(run_model(model, logits_path, images, int(batch), batches, int(repeats))), flush=True)


if __name__ == "__main__":
    if len(sys.argv) < 5 or len(sys.argv) % 2 == 0:
        sys.exit("usage: ort_runner.py IMAGES.f32 BATCH COUNT_BATCHES REPEATS [MODEL.onnx LOGITS.f32 ...]")
    main(*sys.argv[1:])
