"""TrainConfig: the [train] section of pipeline.toml, flags of `python -m train` on top."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from common.config import check_fields, max_threads, option
from train import data
from train.model import MODELS
from train.model_spec import check_args, check_name, stem_of

DEVICES = ("auto", "cpu", "cuda")
SCHEDULES = ("constant", "cosine")
# fc1 of 784 x 16384 fp32 is 51 MB, ~200 MB with Adam's two moments and the best epoch's copy;
# far larger sizes only end in the allocator's error.
MAX_HIDDEN = 16384
MAX_LR = 10.0  # Adam moves each weight by about lr per step: far above 1 nothing trains (1e30 gives NaN weights)
MAX_IMAGES = 10_000_000  # beyond any MNIST-format training split (EMNIST letters has 124,800)


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    dataset: str = option("mnist", "dataset: " + ", ".join(data.DATASETS))
    data_dir: Path = option(Path("data"), "dataset root (torchvision layout <root>/MNIST/raw); env DATA_DIR overrides the file")
    out_dir: Path = option(Path("checkpoints"), "where <model>.pt, <model>.metrics.json and the resume file go "
                                                "(e.g. mlp.pt)")
    model: str = option("mlp", "model: " + ", ".join(MODELS) + ", or your own class as package.module:ClassName "
                               "(README: Your own model)")
    model_args: dict[str, Any] = option({}, "the model's keyword arguments, a TOML table (a JSON object as a flag), "
                                            "e.g. {hidden_size = 256}; the dataset's class count is filled in")
    hidden_size: int = option(0, "MLP hidden units, short for model_args = {hidden_size = N}; 0: the MLP's "
                                 "default, 800 (reaches >= 98% on MNIST in ~12 epochs)", low=0, high=MAX_HIDDEN)
    epochs: int = option(0, "training epochs; 0: the model's default (" + ", ".join(
        f"{name} {entry.epochs}" for name, entry in MODELS.items()) + "), chosen on the validation split; an MLP "
        "epoch is ~5 s on 2 CPU cores at hidden 800, a CNN epoch ~15-45 s", low=0, high=1000)
    batch_size: int = option(64, "mini-batch size of the reference recipe", low=1, high=65536)
    lr: float = option(1e-3, "Adam learning rate of the reference recipe", above=0, high=MAX_LR)
    lr_schedule: str = option("cosine", "constant (the reference recipe) or cosine decay to 0 over the epochs (the last epochs train at a small lr, which the default recipe needs for its accuracy)")
    val_size: int = option(5000, "training images held out for model selection (never trained on)", low=1,
                           high=MAX_IMAGES)
    train_samples: int = option(0, "train on only the first N images of the training split (0 = all); for smoke runs",
                                low=0, high=MAX_IMAGES)
    seed: int = option(0, "seeds init, split and shuffling: same seed on CPU -> same test accuracy", low=0,
                       high=2**32 - 1)
    device: str = option("auto", "auto (CUDA when present), cpu or cuda")
    threads: int = option(1, "CPU threads for training; 1 because 2 OpenMP threads collapse on a shared 2-core "
                             "machine (measured: 3-5 batches/s with 2 threads beside another busy process, "
                             "12 epochs in 128 s with 1)", low=1, high=max_threads)
    resume: bool = option(True, "resume from the last finished epoch if an interrupted run left one")

    def __post_init__(self) -> None:
        check_fields(self)
        if self.dataset not in data.DATASETS:
            raise ValueError(f"unknown dataset {self.dataset!r}; choose one of {sorted(data.DATASETS)}")
        check_name(self.model)
        check_args(self.model_args)
        if self.hidden_size and self.model != "mlp":
            raise ValueError(f"hidden_size sizes the MLP only; for model {self.model!r} set its arguments in "
                             f"model_args (and remove hidden_size)")
        if self.hidden_size and "hidden_size" in self.model_args:
            raise ValueError("hidden_size is given twice, as hidden_size and in model_args; keep one")
        if self.lr_schedule not in SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {SCHEDULES}, got {self.lr_schedule!r}")
        if self.device not in DEVICES:
            raise ValueError(f"device must be one of {DEVICES}, got {self.device!r}")

    @property
    def args(self) -> dict[str, Any]:
        """The model's keyword arguments as given (hidden_size folded in for the MLP)."""
        return {**self.model_args, "hidden_size": self.hidden_size} if self.hidden_size else dict(self.model_args)

    @property
    def run_epochs(self) -> int:
        """The epochs to train: as given, else the model's default (a class of your own: the MLP's)."""
        return self.epochs or MODELS.get(self.model, MODELS["mlp"]).epochs

    @property
    def checkpoint_path(self) -> Path:
        return self.out_dir / f"{stem_of(self.model)}.pt"

    @property
    def metrics_path(self) -> Path:
        return self.out_dir / f"{stem_of(self.model)}.metrics.json"

    @property
    def resume_path(self) -> Path:
        return self.out_dir / f"{stem_of(self.model)}.resume.pt"
