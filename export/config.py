"""ExportConfig: what `python -m export` builds and how strictly it checks it ([export] in pipeline.toml)."""
from __future__ import annotations

import dataclasses
from pathlib import Path

from common.config import check_fields, max_threads, option
from export.formats import FORMATS
from export.onnx import CALIBRATION_METHODS
from export.variant import PRUNINGS, QUANTIZATIONS, Variant
from export.verify import FP32_TOLERANCE

SEARCH_MODES = ("on", "off")
# The bisection halves the pruning range once a step: 20 steps resolve it to one part in a million,
# far below one hidden unit or one weight, and each step costs a fine-tune (~1-5 s).
MAX_SEARCH_STEPS = 20
MAX_LR = 10.0  # as train's lr: Adam moves each weight by about lr per step
MAX_IMAGES = 10_000_000  # beyond any MNIST-format training split
MAX_TEST_VECTORS = 10_000  # the MNIST test set; test_vectors.json holds ~3 kB per image


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
                                  "cores)", low=1, high=MAX_SEARCH_STEPS)
    search_margin_pp: float = option(0.1, "budget left unused on validation: 5k val and 10k test images estimate "
                                          "the same drop ~0.1 pp apart", low=0.0, high=100.0)
    search_max_builds: int = option(6, "artifact builds tried per variant before it is rejected (~1-3 s each)",
                                   low=1, high=100)
    fail_on_rejected: bool = option(False, "exit 1 when a variant is rejected (default: a rejected variant is a "
                                           "result, exit 0)")
    sparsity: float = option(0.8, "unstructured pruning with search off: fraction of all conv and linear weights "
                                  "set to zero", low=0.0, below=1.0)
    structured_ratio: float = option(0.5, "structured pruning with search off: fraction of each conv's channels and "
                                          "each hidden layer's units removed", low=0.0, below=1.0)
    finetune_epochs: int = option(2, "fine-tune epochs after pruning, training split only (~3-10 s each on 2 cores for "
                                     "the MLP, ~15-45 s for the CNN)", low=0, high=1000)
    finetune_lr: float = option(1e-3, "fine-tune Adam learning rate at the start, cosine-decayed to 0",
                                above=0.0, high=MAX_LR)
    finetune_distill: float = option(0.7, "weight of distillation from the unpruned model in the fine-tune loss "
                                          "(0: labels only); 2 epochs at 0.7 kept 140 of the MLP's 800 units within "
                                          "0.14 pp", low=0.0, high=1.0)
    calibration_samples: int = option(512, "training images used to calibrate int8-static activations",
                                      low=1, high=MAX_IMAGES)
    calibration_method: str = option("minmax", "ONNX static calibration: " + ", ".join(CALIBRATION_METHODS))
    accuracy_budget_pp: float = option(0.3, "int8/pruned test accuracy may be at most this many points below fp32",
                                       low=0.0, high=100.0)
    fp32_tolerance: float = option(FP32_TOLERANCE, "fp32 artifacts: max abs logit difference vs PyTorch", low=0.0,
                                  high=1e6)
    keep_failed: bool = option(False, "keep artifacts that fail verification (listed with status failed)")
    test_vectors: int = option(32, "real test images written to test_vectors.json with expected fp32 logits",
                              low=1, high=MAX_TEST_VECTORS)
    threads: int = option(1, "CPU threads for fine-tuning, export and verification (torch, ORT, ExecuTorch); "
                             "1 because 2 OpenMP threads collapse on a shared 2-core machine (measured 338 vs 28-44 ms "
                             "per fine-tune step while another process was busy)", low=1, high=max_threads)
    keep_runs: int = option(3, "finished run folders kept in <out_dir>-runs/ (older ones are deleted)",
                           low=0, high=1000)
    embed: bool = option(False, "after export, copy embed_artifacts into the mobile demos (export.embed)")
    embed_artifacts: tuple[str, ...] = option((), "artifact names to embed (empty: export.embed's defaults)")

    def __post_init__(self) -> None:
        check_fields(self)
        for field, valid in (("formats", tuple(FORMATS)), ("quantizations", QUANTIZATIONS), ("prunings", PRUNINGS)):
            values = getattr(self, field)
            unknown = [v for v in values if v not in valid]
            if unknown:
                raise ValueError(f"unknown {field} {unknown}; valid choices: {list(valid)}")
            if not values:
                raise ValueError(f"{field} is empty; choose at least one of {list(valid)}")
        if self.search not in SEARCH_MODES:
            raise ValueError(f"unknown search {self.search!r}; valid choices: {list(SEARCH_MODES)}")
        if self.search_margin_pp > self.accuracy_budget_pp:
            raise ValueError(f"search_margin_pp must be in [0, accuracy_budget_pp={self.accuracy_budget_pp}], "
                             f"got {self.search_margin_pp}")
        if self.calibration_method not in CALIBRATION_METHODS:
            raise ValueError(f"unknown calibration_method {self.calibration_method!r}; "
                             f"valid choices: {list(CALIBRATION_METHODS)}")
        self.check_embeds()  # before the export's minutes of work, not after it; again once the model is known

    def check_embeds(self, model: str | None = None) -> None:
        """ValueError for an embed_artifacts name this config does not build: for `model` (the checkpoint's
        ModelSpec.stem), or, before the checkpoint is read, for any model (names compared after the
        model's prefix; a stem holds no '_')."""
        planned = self.planned_names(model or "mlp")
        known = set(planned) if model else {n.partition("_")[2] for n in planned}
        unknown = sorted(n for n in self.embed_artifacts if (n if model else n.partition("_")[2]) not in known)
        if unknown:
            shown = ", ".join(planned[:6]) + (f" ... ({len(planned)} in all)" if len(planned) > 6 else "")
            raise ValueError(f"unknown embed_artifacts {unknown}; this export builds {shown}: name some of "
                             f"those, or add the formats, quantizations and prunings that make them")

    def planned_names(self, model: str = "mlp") -> list[str]:
        """The names of every artifact this config builds for `model` (a ModelSpec.stem); each may still
        end failed or rejected."""
        return [Variant(fmt, backend, quant, pruning, model).name for fmt in self.formats
                for backend in FORMATS[fmt].BACKENDS for pruning in self.prunings for quant in self.quantizations]
