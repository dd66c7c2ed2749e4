"""One row of the report: one artifact x runtime x target (x device x batch x threads), typed.

`Row` is the one definition every target writes and every reader (render, tools.bench, the
baseline comparison) reads; its type hints are its schema (docs/report.md), checked when a row
is made and when one is read back from JSON, so a malformed row fails where it is made, also
under `python -O`.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from common.errors import UserError
from export.manifest import fields_problem

# not measured: this machine cannot run the target or runtime (the reason says why and how);
# stale: a device result measured on another build of the artifact (kept, never recommended);
# unsupported: a device result the phone or browser could not run.
STATUSES = ("ok", "failed", "unsupported", "not measured", "stale")
# Where a row's accuracy comes from: measured through this row's runtime, or taken from the
# export's verification of the same file (same sha256) through the same runtime build on the same
# test data (same sha256), which is the same computation.
ACCURACY_SOURCES = ("measured", "export")


@dataclasses.dataclass
class Row:
    target: str                            # a key of runtime.targets.TARGETS
    artifact: str | None = None            # manifest name, "checkpoint" for the torch-eager baselines
    runtime: str | None = None             # e.g. onnxruntime, onnxruntime-iobinding, executorch-xnnpack
    device: str | None = None              # the phone (model and serial) or browser of a device row
    batch: int | None = None               # images per call; None when nothing was timed
    threads: int | None = None             # threads given to the runtime; None when nothing was timed
    status: str = "ok"                     # one of STATUSES
    reason: str | None = None              # why not ok
    format: str | None = None
    backend: str | None = None
    quantization: str | None = None
    pruning: str | None = None
    size_bytes: int | None = None
    accuracy: float | None = None          # top-1 over `accuracy_images` test images, 0..1
    top1_agreement: float | None = None    # fraction whose top-1 equals the fp32 PyTorch model's
    accuracy_images: int | None = None     # how many test images (the full set, or a subset: arm64)
    accuracy_source: str | None = None     # one of ACCURACY_SOURCES
    within_budget: bool | None = None      # accuracy >= reference - accuracy_budget_pp
    load_ms: float | None = None           # load time of the runtime object from the file
    first_ms: float | None = None          # first predict at this batch size after a fresh load
    p50_us: float | None = None
    p90_us: float | None = None
    p99_us: float | None = None
    mean_us: float | None = None
    std_us: float | None = None
    trimmed_mean_us: float | None = None   # mean of the middle 80% of calls
    cv: float | None = None                # std / mean
    timed_calls: int | None = None
    throughput: float | None = None        # images per second (batch / mean)
    peak_rss_mb: float | None = None       # VmHWM of a fresh process that loaded it and ran the largest batch
    import_rss_mb: float | None = None     # that process's VmHWM before loading: interpreter and libraries
    ratio_to_eager: float | None = None    # p50 / the target's baseline p50 at the same batch and threads
    memory_floor_us: float | None = None   # bytes read per call / read bandwidth at that size (runtime/floor.py)
    nearer_floor: str | None = None        # memory | compute: the floor nearer this row's p50
    over_floor_us: float | None = None     # p50 - that floor (negative: the row beats that floor's model)
    instructions: int | None = None        # arm64: aarch64 guest instructions per call (not a latency)
    max_abs_diff_x86: float | None = None  # arm64: largest |logit| difference from the same artifact on x86
    emulator: str | None = None            # arm64: emulator version and the ARM core it emulates
    flags: list[str] = dataclasses.field(default_factory=list)  # warnings: noisy, int8 slower than fp32, ...

    def __post_init__(self) -> None:
        problem = row_problem(dataclasses.asdict(self))
        if problem:
            raise ValueError(f"report row {self.artifact} via {self.runtime} ({self.target}): {problem}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, entry: Any, where: str) -> "Row":
        """A row read back from a report's JSON; UserError naming `where` and what is wrong."""
        problem = row_problem(entry) if isinstance(entry, dict) else f"is a {type(entry).__name__}, not an object"
        if problem:
            raise UserError(f"{where}: {problem}; pass a latency_report.json written by `python -m runtime`")
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in entry.items() if k in known})

    def key(self) -> tuple:
        """What identifies a measurement across reports (the baseline comparison)."""
        return (self.artifact, self.runtime, self.target, self.device, self.batch, self.threads)


def row_problem(entry: dict[str, Any]) -> str | None:
    """What makes `entry` an invalid row, or None: types, status, accuracy source, a reason when not ok."""
    problem = fields_problem(Row, entry)
    if problem:
        return problem
    if entry.get("status", "ok") not in STATUSES:
        return f"status {entry['status']!r} is not one of {list(STATUSES)}"
    if entry.get("accuracy_source") not in (None, *ACCURACY_SOURCES):
        return f"accuracy_source {entry['accuracy_source']!r} is not one of {list(ACCURACY_SOURCES)}"
    if entry.get("status", "ok") != "ok" and not entry.get("reason"):
        return f"status {entry['status']} needs a reason"
    return None


def describe_artifact(artifact) -> dict[str, Any]:
    """The manifest facts a row repeats, so each row reads on its own."""
    return {"artifact": artifact.name, "format": artifact.format, "backend": artifact.backend,
            "quantization": artifact.quantization, "pruning": artifact.pruning,
            "size_bytes": artifact.size_bytes}
