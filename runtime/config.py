"""RuntimeConfig: the [runtime] section of pipeline.toml, flags of `python -m runtime` on top."""
from __future__ import annotations

import dataclasses
from pathlib import Path

from common.config import check_fields, check_threads, max_threads, option

MAX_BATCH = 10_000  # the MNIST test set: a larger batch would silently time a 10k-image batch
MAX_MATMUL = 8192   # three 8192^2 fp32 matrices are ~0.8 GB; larger ones only risk running out of memory
MAX_CALLS = 10_000_000  # timed or warm-up calls per run: ~4 min of a 25 us call, per row
MAX_SECONDS = 600.0  # timed seconds per run, per row: beyond it a report of ~100 rows takes a day

# `--quick`: small counts for tests and smoke runs. Each value still lands in the report's
# `method` block, so a quick report can never pass for a full one.
QUICK = {"warmup": 10, "iterations": 100, "min_seconds": 0.05, "min_calls": 5, "peak_rss": False}


@dataclasses.dataclass(frozen=True)
class RuntimeConfig:
    manifest: Path = option(Path("artifacts/manifest.json"), "manifest written by `python -m export`")
    checkpoint: Path = option(Path("checkpoints/mlp.pt"), "fp32 checkpoint the artifacts came from (torch-eager baseline)")
    data_dir: Path = option(Path("data"), "dataset root with MNIST/raw (the 10k test set); env DATA_DIR overrides the file")
    out_dir: Path = option(Path("reports"), "where latency_report.{json,md,html} go")
    device_results_dir: Path = option(Path("reports/device_results"), "android-<serial>.json (one per phone) and browser-wasm.json from the mobile demos")
    targets: tuple[str, ...] = option([], "targets to report, from runtime/targets (cpu, cuda, arm64, android, "
                                          "browser-wasm); empty: every one, those this machine cannot measure "
                                          "listed as not measured")
    artifacts: tuple[str, ...] = option([], "only artifacts whose name matches one of these shell patterns, e.g. mlp_onnx_* (empty: all)")
    batches: tuple[int, ...] = option([1, 32, 256], "batch sizes to time", low=1, high=MAX_BATCH)
    threads: tuple[int, ...] = option([1, 0], "thread counts to time; 0 = all cores of this machine", low=0,
                                 high=max_threads)
    warmup: int = option(100, "untimed calls before each timed run (>= 100 for a full report)", low=0,
                         high=MAX_CALLS)
    iterations: int = option(1000, "timed calls at batch 1 (>= 1000 for a full report)", low=2, high=MAX_CALLS)
    min_seconds: float = option(1.0, "timed seconds per run at batch > 1 (>= 1 for a full report)", low=0.0,
                                high=MAX_SECONDS)
    min_calls: int = option(10, "at least this many timed calls at batch > 1", low=2, high=MAX_CALLS)
    cv_warn: float = option(0.5, "coefficient of variation (std/mean) above which a row is flagged noisy",
                            above=0.0, high=1000.0)
    accuracy_batch: int = option(256, "batch size for the 10k-image accuracy pass", low=1, high=MAX_BATCH)
    peak_rss: bool = option(True, "measure peak resident memory per artifact in a fresh subprocess (~3 s each)")
    matmul_size: int = option(512, "n of the n x n torch.mm timed for the machine's peak FLOP/s (compute floor)",
                              low=1, high=MAX_MATMUL)
    baseline: str = option("", "a previous latency_report.json to compare with (empty: none)")
    regression_tolerance: float = option(0.2, "p50 more than this fraction slower than the baseline is a regression",
                                         low=0.0, high=1000.0)

    def __post_init__(self) -> None:
        check_fields(self)  # the bounds declared beside each field, also for a config made in code
        from runtime.targets import TARGETS  # the registry imports this module
        bad = sorted(set(self.targets) - set(TARGETS))
        if bad:
            raise ValueError(f"unknown targets {bad}; choose from {list(TARGETS)}")
        if not self.batches or any(not 1 <= b <= MAX_BATCH for b in self.batches):
            raise ValueError(f"batches must be integers from 1 to {MAX_BATCH}, got {list(self.batches)}")
        if not self.threads:
            raise ValueError("threads is empty; give at least one thread count (0 = all cores)")
        for t in self.threads:
            check_threads("threads (0 = all cores)", t, low=0)
        if self.warmup < 0:
            raise ValueError(f"warmup must be >= 0, got {self.warmup}")
        for name in ("iterations", "min_calls"):  # statistics need at least 2 samples
            if getattr(self, name) < 2:
                raise ValueError(f"{name} must be >= 2, got {getattr(self, name)}")
        for name, high in (("accuracy_batch", MAX_BATCH), ("matmul_size", MAX_MATMUL)):
            if not 1 <= getattr(self, name) <= high:
                raise ValueError(f"{name} must be from 1 to {high}, got {getattr(self, name)}")
        if self.min_seconds < 0 or self.cv_warn <= 0 or self.regression_tolerance < 0:
            raise ValueError("min_seconds and regression_tolerance must be >= 0 and cv_warn > 0, got "
                             f"{self.min_seconds}, {self.regression_tolerance}, {self.cv_warn}")
