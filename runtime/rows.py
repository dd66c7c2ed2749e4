"""One row of the report: its fields (the schema, documented in docs/performance.md) and a constructor."""
from __future__ import annotations

from typing import Any

# unsupported: a device result the phone or browser could not run (runtime/device_results.py)
STATUSES = ("ok", "failed", "unsupported", "not measured", "stale")

FIELDS: dict[str, Any] = {
    "artifact": None,         # manifest name, or "checkpoint" for the torch-eager baselines
    "runtime": None,          # e.g. onnxruntime, onnxruntime-iobinding, executorch-xnnpack, torch-eager
    "target": None,           # cpu | cuda | android | browser-wasm | arm64
    "device": None,           # the phone (model and adb serial) or browser a device row was measured on
    "batch": None,            # images per call; null when nothing was timed
    "threads": None,          # threads given to the runtime; null when nothing was timed
    "status": "ok",           # one of STATUSES
    "reason": None,           # why not ok
    "format": None, "backend": None, "quantization": None, "pruning": None,
    "size_bytes": None,
    "accuracy": None,         # top-1 on the full test set through this runtime, 0..1
    "top1_agreement": None,   # fraction of test images whose top-1 equals the fp32 PyTorch model's
    "within_budget": None,    # accuracy >= reference - accuracy_budget_pp
    "load_ms": None,          # load time of the runtime object from the file
    "first_ms": None,         # first predict at this batch size after loading
    "p50_us": None, "p90_us": None, "p99_us": None, "mean_us": None, "std_us": None,
    "trimmed_mean_us": None,  # mean of the middle 80% of calls
    "cv": None,               # std / mean
    "timed_calls": None,
    "throughput": None,       # images per second (batch / mean)
    "peak_rss_mb": None,      # VmHWM of a fresh process that loaded it and ran the largest batch
    "import_rss_mb": None,    # that process's VmHWM before loading: the interpreter and libraries alone
    "ratio_to_eager": None,   # p50 / torch-eager p50 on the same target, batch and threads
    "memory_floor_us": None,  # bytes read per call / numpy's read bandwidth at that size (runtime/floor.py)
    "nearer_floor": None,     # memory | compute: the floor nearer this row's p50
    "over_floor_us": None,    # p50 - that floor (negative: the row beats that floor's model of the work)
    "instructions": None,     # arm64: aarch64 guest instructions per call under qemu (not cycles, not a latency)
    "max_abs_diff_x86": None, # arm64: largest |logit| difference from the same artifact on x86, full test set
    "emulator": None,         # arm64: emulator version and the ARM core it emulates
    "flags": [],              # warnings: high CV, int8 slower than fp32, over accuracy budget, ...
}


def make_row(**values: Any) -> dict[str, Any]:
    unknown = set(values) - set(FIELDS)
    assert not unknown, f"not report fields: {sorted(unknown)}"
    assert values.get("status", "ok") in STATUSES, f"row status {values['status']!r} not in {STATUSES}"
    row = {k: (list(v) if isinstance(v, list) else v) for k, v in FIELDS.items()}
    row.update(values)
    return row


def describe_artifact(artifact) -> dict[str, Any]:
    """The manifest facts a row repeats, so each row reads on its own."""
    return {"artifact": artifact.name, "format": artifact.format, "backend": artifact.backend,
            "quantization": artifact.quantization, "pruning": artifact.pruning,
            "size_bytes": artifact.size_bytes}
