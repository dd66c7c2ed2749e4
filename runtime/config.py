"""RuntimeConfig: the [runtime] section of pipeline.toml, flags of `python -m runtime` on top."""
from __future__ import annotations

import dataclasses
from pathlib import Path

from common.config import check_fields, max_threads, option
from export.verify import BATCH as EXPORT_BATCH

MAX_BATCH = 10_000  # the MNIST test set: a larger batch would silently time a 10k-image batch
MAX_MATMUL = 8192   # three 8192^2 fp32 matrices are ~0.8 GB; larger ones only risk running out of memory
MAX_CALLS = 10_000_000  # timed or warm-up calls per run: ~4 min of a 25 us call, per row
MAX_SECONDS = 600.0  # timed seconds per run, per row: beyond it a report of ~100 rows takes a day

# `--quick`: small counts for tests and smoke runs. Each value still lands in the report's
# `method` block, so a quick report can never pass for a full one.
QUICK = {"warmup": 10, "iterations": 100, "min_seconds": 0.05, "min_calls": 5, "peak_rss": False,
         "arm64_images": 300}
# `--full`: the exhaustive matrix (`make bench` runs it). The defaults measure what the decision
# needs: latency at batch 1 on one thread (what the recommendation ranks), throughput at the
# largest batch, accuracy, and the arm64 counts with accuracy on ARM64_IMAGES; what they leave
# out is named in the report (`left_out`).
FULL = {"batches": [1, 32, 256], "threads": [1, 0], "min_seconds": 1.0, "peak_rss": True, "floors": True,
        "arm64_images": 0, "arm64_count_batches": [1, 32]}
# Test images each artifact runs under ARM64 emulation by default (the recommended one: all of
# them). With 3,000 images a top-1 disagreement rate of 0.1% shows up at least once with 95%
# probability (1 - 0.999^3000 = 0.95), and none in 3,000 bounds the rate below 0.1% at 95%
# confidence (the rule of three, 3/n); emulated fp32 costs ~9 ms of CPU per image (~90 s per 10k).
ARM64_IMAGES = 3000


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
    batches: tuple[int, ...] = option([1, 256], "batch sizes to time: 1 (latency) and the largest (throughput); "
                                                "--full: 1, 32, 256", low=1, high=MAX_BATCH)
    threads: tuple[int, ...] = option([1], "thread counts to time; 0 = all cores of this machine; --full: 1, 0",
                                      low=0, high=max_threads)
    warmup: int = option(100, "untimed calls before each timed run (>= 100 for a full report)", low=0,
                         high=MAX_CALLS)
    iterations: int = option(1000, "timed calls at batch 1 (>= 1000 for a full report)", low=2, high=MAX_CALLS)
    min_seconds: float = option(0.25, "timed seconds per run at batch > 1, and the most its warm-up takes; "
                                      "0.25 s is >= 1,000 calls of a fast runtime at batch 256; --full: 1.0",
                                low=0.0, high=MAX_SECONDS)
    min_calls: int = option(10, "at least this many timed calls at batch > 1", low=2, high=MAX_CALLS)
    cv_warn: float = option(0.5, "coefficient of variation (std/mean) above which a row is flagged noisy",
                            above=0.0, high=1000.0)
    accuracy_batch: int = option(EXPORT_BATCH, "batch size of the accuracy pass; at the export's own batch "
                                               f"({EXPORT_BATCH}) a row takes the export's verified accuracy of "
                                               "the same file through the same runtime build instead of "
                                               "measuring it again (int8-dynamic results depend on the batch)",
                                 low=1, high=MAX_BATCH)
    peak_rss: bool = option(False, "measure peak resident memory per artifact in a fresh subprocess (~3 s each); "
                                   "--full: true")
    floors: bool = option(False, "the compute and memory floors under every cpu row (runtime/floor.py); --full: true")
    arm64_images: int = option(ARM64_IMAGES, "test images per artifact for accuracy and parity under ARM64 "
                                             "emulation, evenly spaced over the test set (0: all); the "
                                             "recommended arm64 artifact runs all (arm64_whole_pick); "
                                             "--quick: 300; --full: 0",
                               low=0, high=MAX_BATCH)
    arm64_count_batches: tuple[int, ...] = option([1], "batch sizes whose aarch64 instructions per inference are "
                                                       "counted under emulation (18 emulated calls each under the "
                                                       "counting plugin: ~5 s of CPU per fp32 artifact at 32); "
                                                       "--full: 1, 32", low=1, high=256)
    arm64_whole_pick: bool = option(True, "the recommended arm64 artifact also runs the rest of the test set, so its "
                                          "accuracy is on all of it (false: every artifact on arm64_images only)")
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
        if not self.batches or not self.threads:
            raise ValueError("batches and threads each need at least one value")
        if 1 not in self.arm64_count_batches:
            raise ValueError(f"arm64_count_batches {list(self.arm64_count_batches)} lacks 1: the arm64 "
                             f"recommendation ranks by instructions at batch 1; add it")


def left_out(cfg: RuntimeConfig, cores: int) -> dict[str, list[str]]:
    """What this report does not measure that `--full` does, per target, one phrase each
    (report["method"]["left_out"] and each target's block); {} for a full report."""
    timed = []
    batches = [b for b in FULL["batches"] if b not in cfg.batches]
    if batches:
        timed.append(f"batch {', '.join(map(str, batches))}: --full times batches 1, 32 and 256")
    if cfg.min_seconds < FULL["min_seconds"]:
        timed.append(f"{FULL['min_seconds']} s of timed calls per row at batch > 1 ({cfg.min_seconds} s here)")
    if cores > 1 and not any(t in (0, cores) for t in cfg.threads):
        timed.append(f"{cores} threads (all cores): rows are timed on {', '.join(map(str, cfg.threads))} thread(s)")
    cpu = timed + (["peak RSS per artifact"] if not cfg.peak_rss else []) + \
        (["the compute and memory floors"] if not cfg.floors else [])
    arm64 = [f"accuracy and parity on the full test set: {cfg.arm64_images} evenly spaced test images per "
             f"artifact" + (", all of them for the recommended one" if cfg.arm64_whole_pick else "")
             ] if cfg.arm64_images else []
    uncounted = [b for b in FULL["arm64_count_batches"] if b not in cfg.arm64_count_batches]
    if uncounted:
        arm64.append(f"instruction counts at batch {', '.join(map(str, uncounted))}: --full counts batches 1 and 32")
    out = {"cpu": cpu, "cuda": timed, "arm64": arm64}
    return {target: phrases for target, phrases in out.items() if phrases}
