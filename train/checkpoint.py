"""The checkpoint: everything later stages need, loadable with torch.load(weights_only=True).

Layout of checkpoints/mlp.pt (a dict of tensors and plain Python values):
  format        "mlp-checkpoint/1"
  state_dict    the selected (best validation) weights
  model         MLPConfig as a dict
  train         TrainConfig as a dict
  dataset       {name, classes, mean, std, input_shape, files: {IDX file: sha256}}
  metrics       {test_accuracy, val_accuracy, epochs, best_epoch, seconds, ...}
"""
from __future__ import annotations

import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

from common.errors import UserError
from common.files import atomic_path
from train.model import MLP, MLPConfig

FORMAT = "mlp-checkpoint/1"
REQUIRED = ("format", "state_dict", "model", "train", "dataset", "metrics")


def save(obj: dict[str, Any], path: Path) -> None:
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def load_raw(path: Path, what: str = "checkpoint") -> dict[str, Any]:
    """torch.load with weights_only=True (no pickle code runs), with one-line errors."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{what} {path} not found; run `python -m train` first (or pass the right path)")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    # OSError: torch's zip reader raises "[Errno 22] Invalid argument" for some truncations.
    except (RuntimeError, OSError, pickle.UnpicklingError, zipfile.BadZipFile, EOFError, ValueError) as e:
        raise UserError(f"{what} {path} is truncated or not a PyTorch checkpoint ({str(e).splitlines()[0][:100]}); "
                        f"delete it and run `python -m train` again") from None
    if not isinstance(obj, dict):
        raise UserError(f"{what} {path} is not one of ours (not a dict); run `python -m train` to make one")
    return obj


def load(path: Path) -> dict[str, Any]:
    """A trained checkpoint, validated: the right format and all fields present."""
    obj = load_raw(path)
    missing = [k for k in REQUIRED if k not in obj]
    if obj.get("format") != FORMAT or missing:
        raise UserError(f"{path} is a foreign checkpoint (format {obj.get('format')!r}, missing {missing}); "
                        f"expected {FORMAT!r} from `python -m train`")
    return obj


def load_model(path: Path) -> tuple[MLP, dict[str, Any]]:
    """The trained MLP in eval mode, plus the checkpoint dict it came from."""
    ckpt = load(path)
    model = MLP.from_config(MLPConfig(**ckpt["model"]))
    try:
        model.load_state_dict(ckpt["state_dict"])
    except RuntimeError as e:
        raise UserError(f"{path} weights do not fit its model config ({str(e).splitlines()[0][:100]}); "
                        f"retrain with `python -m train`") from None
    return model.eval(), ckpt
