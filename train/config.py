"""TrainConfig: the [train] section of pipeline.toml, flags of `python -m train` on top."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from common.config import check_threads, option
from train import data
from train.model import MODELS
from train.model_spec import check_args, check_name, stem_of

DEVICES = ("auto", "cpu", "cuda")
SCHEDULES = ("constant", "cosine")


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
                                 "default, 800 (reaches >= 98% on MNIST in ~12 epochs)")
    epochs: int = option(0, "training epochs; 0: the model's default (" + ", ".join(
        f"{name} {entry.epochs}" for name, entry in MODELS.items()) + "), chosen on the validation split; an MLP "
        "epoch is ~5 s on 2 CPU cores at hidden 800, a CNN epoch ~15-45 s")
    batch_size: int = option(64, "mini-batch size of the reference recipe")
    lr: float = option(1e-3, "Adam learning rate of the reference recipe")
    lr_schedule: str = option("cosine", "constant (the reference recipe) or cosine decay to 0 over the epochs (12 epochs, seed 0: 97.47% -> 98.35% test)")
    val_size: int = option(5000, "training images held out for model selection (never trained on)")
    train_samples: int = option(0, "train on only the first N images of the training split (0 = all); for smoke runs")
    seed: int = option(0, "seeds init, split and shuffling: same seed on CPU -> same test accuracy")
    device: str = option("auto", "auto (CUDA when present), cpu or cuda")
    threads: int = option(1, "CPU threads for training; 1 because 2 OpenMP threads collapse on a shared 2-core "
                             "machine (measured: 3-5 batches/s with 2 threads beside another busy process, "
                             "12 epochs in 128 s with 1)")
    resume: bool = option(True, "resume from the last finished epoch if an interrupted run left one")

    def __post_init__(self) -> None:
        if self.dataset not in data.DATASETS:
            raise ValueError(f"unknown dataset {self.dataset!r}; choose one of {sorted(data.DATASETS)}")
        check_name(self.model)
        check_args(self.model_args)
        for name in ("batch_size", "val_size"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)}")
        for name in ("hidden_size", "epochs"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be a positive integer (0: the default), got {getattr(self, name)}")
        if self.hidden_size and self.model != "mlp":
            raise ValueError(f"hidden_size sizes the MLP only; for model {self.model!r} set its arguments in "
                             f"model_args (and remove hidden_size)")
        if self.hidden_size and "hidden_size" in self.model_args:
            raise ValueError("hidden_size is given twice, as hidden_size and in model_args; keep one")
        if self.train_samples < 0:
            raise ValueError(f"train_samples must be >= 0 (0 = all), got {self.train_samples}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        if self.lr_schedule not in SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {SCHEDULES}, got {self.lr_schedule!r}")
        check_threads("threads", self.threads)
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
