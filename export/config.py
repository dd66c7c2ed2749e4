"""ExportConfig: what `python -m export` builds and how strictly it checks it ([export] in pipeline.toml)."""
from __future__ import annotations

import dataclasses
from pathlib import Path

from common.config import check_threads, option
from export.formats import FORMATS
from export.onnx import CALIBRATION_METHODS
from export.variant import PRUNINGS, QUANTIZATIONS
from export.verify import FP32_TOLERANCE

SEARCH_MODES = ("on", "off")


@dataclasses.dataclass(frozen=True)
class ExportConfig:
    checkpoint: Path = option(Path("checkpoints/mlp.pt"), "trained checkpoint from `python -m train`")
    out_dir: Path = option(Path("artifacts"), "symlink to the finished run's folder (runs live in <out_dir>-runs/)")
    data_dir: Path = option(Path("data"), "dataset root (torchvision layout <root>/MNIST/raw); env DATA_DIR overrides the file")
    formats: tuple[str, ...] = option(tuple(FORMATS), "formats to build: " + ", ".join(FORMATS))
    quantizations: tuple[str, ...] = option(QUANTIZATIONS, "quantizations to build: " + ", ".join(QUANTIZATIONS))
    prunings: tuple[str, ...] = option(PRUNINGS, "prunings to build: " + ", ".join(PRUNINGS))
    search: str = option("on", "on: per pruning kind the strongest setting, per int8 variant the first recipe, "
                               "within the budget on the validation split (rejected if none); off: the fixed "
                               "recipes (sparsity, structured_ratio, plain int8)")
    search_steps: int = option(4, "bisection steps per pruning kind; each fine-tunes one candidate (~1-5 s on 2 quiet "
                                  "cores)")
    search_margin_pp: float = option(0.1, "budget left unused on validation: 5k val and 10k test images estimate "
                                          "the same drop ~0.1 pp apart")
    search_max_builds: int = option(6, "artifact builds tried per variant before it is rejected (~1-3 s each)")
    fail_on_rejected: bool = option(False, "exit 1 when a variant is rejected (default: a rejected variant is a "
                                           "result, exit 0)")
    sparsity: float = option(0.8, "unstructured pruning with search off: fraction of all conv and linear weights "
                                  "set to zero")
    structured_ratio: float = option(0.5, "structured pruning with search off: fraction of each conv's channels and "
                                          "each hidden layer's units removed")
    finetune_epochs: int = option(2, "fine-tune epochs after pruning, training split only (~3-10 s each on 2 cores for "
                                     "the MLP, ~15-45 s for the CNN)")
    finetune_lr: float = option(1e-3, "fine-tune Adam learning rate at the start, cosine-decayed to 0")
    finetune_distill: float = option(0.7, "weight of distillation from the unpruned model in the fine-tune loss "
                                          "(0: labels only); 2 epochs at 0.7 kept 140 of the MLP's 800 units within 0.14 pp")
    calibration_samples: int = option(512, "training images used to calibrate int8-static activations")
    calibration_method: str = option("minmax", "ONNX static calibration: " + ", ".join(CALIBRATION_METHODS))
    accuracy_budget_pp: float = option(0.3, "int8/pruned test accuracy may be at most this many points below fp32")
    fp32_tolerance: float = option(FP32_TOLERANCE, "fp32 artifacts: max abs logit difference vs PyTorch")
    keep_failed: bool = option(False, "keep artifacts that fail verification (listed with status failed)")
    test_vectors: int = option(32, "real test images written to test_vectors.json with expected fp32 logits")
    threads: int = option(1, "CPU threads for fine-tuning, export and verification (torch, ORT, ExecuTorch); "
                             "1 because 2 OpenMP threads collapse on a shared 2-core machine (measured 338 vs 28-44 ms "
                             "per fine-tune step while another process was busy)")
    keep_runs: int = option(3, "finished run folders kept in <out_dir>-runs/ (older ones are deleted)")
    embed: bool = option(False, "after export, copy embed_artifacts into the mobile demos (export.embed)")
    embed_artifacts: tuple[str, ...] = option((), "artifact names to embed (empty: export.embed's defaults)")

    def __post_init__(self) -> None:
        for field, valid in (("formats", tuple(FORMATS)), ("quantizations", QUANTIZATIONS), ("prunings", PRUNINGS)):
            values = getattr(self, field)
            unknown = [v for v in values if v not in valid]
            if unknown:
                raise ValueError(f"unknown {field} {unknown}; valid choices: {list(valid)}")
            if not values:
                raise ValueError(f"{field} is empty; choose at least one of {list(valid)}")
        if self.search not in SEARCH_MODES:
            raise ValueError(f"unknown search {self.search!r}; valid choices: {list(SEARCH_MODES)}")
        if not 0.0 <= self.search_margin_pp <= self.accuracy_budget_pp:
            raise ValueError(f"search_margin_pp must be in [0, accuracy_budget_pp={self.accuracy_budget_pp}], "
                             f"got {self.search_margin_pp}")
        if self.calibration_method not in CALIBRATION_METHODS:
            raise ValueError(f"unknown calibration_method {self.calibration_method!r}; "
                             f"valid choices: {list(CALIBRATION_METHODS)}")
        for name in ("sparsity", "structured_ratio"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)}")
        for name in ("finetune_epochs", "keep_runs"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        check_threads("threads", self.threads)
        for name in ("calibration_samples", "test_vectors", "search_steps", "search_max_builds"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if not 0.0 <= self.finetune_distill <= 1.0:
            raise ValueError(f"finetune_distill must be in [0, 1], got {self.finetune_distill}")
        if not self.finetune_lr > 0 or self.accuracy_budget_pp < 0 or self.fp32_tolerance < 0:
            raise ValueError("finetune_lr must be > 0, accuracy_budget_pp and fp32_tolerance >= 0; got "
                             f"{self.finetune_lr}, {self.accuracy_budget_pp}, {self.fp32_tolerance}")
