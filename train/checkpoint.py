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

import io
from pathlib import Path
from typing import Any

import torch

from common.errors import UserError, one_line
from common.files import atomic_write
from train import data
from train.model import MLP, MLPConfig

FORMAT = "mlp-checkpoint/1"
REQUIRED = ("format", "state_dict", "model", "train", "dataset", "metrics")


def save(obj: dict[str, Any], path: Path) -> None:
    """Serialize in memory, then write through Python: torch's own file writer drops the errno of
    a failed write (a full disk reads "unexpected pos"), Python's raises OSError(ENOSPC) that every
    stage turns into one line. The cost is one copy of the checkpoint in memory (~10 MB here)."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    with atomic_write(path) as f:
        f.write(buffer.getbuffer())


def load_raw(path: Path, what: str = "checkpoint") -> dict[str, Any]:
    """torch.load with weights_only=True (no pickle code runs). Every way a file can be wrong
    (absent, a folder, empty, truncated, random bytes, a pickle that is not plain data) is one
    UserError naming the fix; torch's readers raise IndexError, KeyError, RuntimeError, OSError ...
    depending on where the damage sits, so every Exception of the load itself is the file's fault."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{what} {path} is a folder, not a file; pass the file inside it "
                        f"(e.g. {path / 'mlp.pt'}) written by `python -m train`")
    if not path.exists():
        raise UserError(f"{what} {path} not found; run `python -m train` first (or pass the right path)")
    redo = "delete it and run `python -m train` again"
    if path.stat().st_size == 0:
        raise UserError(f"{what} {path} is empty (0 bytes, as an interrupted copy leaves it); {redo}")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except PermissionError:
        raise UserError(f"{what} {path} cannot be read (permission denied); fix its permissions") from None
    except Exception as e:  # noqa: BLE001 - see the docstring: a damaged file, never our bug
        raise UserError(f"{what} {path} is truncated or not a PyTorch checkpoint ({one_line(e)[:160]}); "
                        f"{redo}") from None
    if not isinstance(obj, dict):
        raise UserError(f"{what} {path} is not one of ours (a {type(obj).__name__}, not a dict); "
                        f"run `python -m train` to make one")
    return obj


# Key -> (type, its keys that later stages read, with their types).
SHAPE: dict[str, tuple[type, dict[str, type | tuple[type, ...]]]] = {
    "state_dict": (dict, {}),
    "model": (dict, {"input_size": int, "hidden_size": int, "output_size": int}),
    "train": (dict, {"seed": int, "val_size": int}),
    "dataset": (dict, {"name": str, "files": dict}),
    "metrics": (dict, {"test_accuracy": float}),
}


def load(path: Path) -> dict[str, Any]:
    """A trained checkpoint, validated: the right format and every field later stages read, typed."""
    obj = load_raw(path)
    missing = [k for k in REQUIRED if k not in obj]
    if obj.get("format") != FORMAT or missing:
        raise UserError(f"{path} is a foreign checkpoint (format {str(obj.get('format'))[:40]!r}, missing {missing}); "
                        f"expected {FORMAT!r} from `python -m train`")
    for key, (kind, fields) in SHAPE.items():
        value = obj[key]
        bad = [f for f, t in fields.items() if isinstance(value, dict) and not _is(value.get(f), t)]
        problem = (f"{key!r} is not a {kind.__name__}" if not isinstance(value, kind)
                   else f"{key!r} has missing or mistyped {bad}" if bad else None)
        if problem:
            raise UserError(f"{path} is damaged: {problem}; retrain with `python -m train`")
    if not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj["state_dict"].items()):
        raise UserError(f"{path} is damaged: its state_dict is not a mapping of names to tensors; "
                        f"retrain with `python -m train`")
    return obj


def _is(value: Any, kind: type | tuple[type, ...]) -> bool:
    """isinstance, except that a bool is not an int (True would pass as a seed)."""
    return isinstance(value, kind) and not isinstance(value, bool)


def load_model(path: Path) -> tuple[MLP, dict[str, Any]]:
    """The trained MLP in eval mode, plus the checkpoint dict it came from."""
    ckpt = load(path)
    try:
        model = MLP.from_config(MLPConfig(**ckpt["model"]))
        model.load_state_dict(ckpt["state_dict"])
    except (TypeError, ValueError, RuntimeError) as e:
        raise UserError(f"{path} weights do not fit its model config ({one_line(e)[:160]}); "
                        f"retrain with `python -m train`") from None
    return model.eval(), ckpt


def check_data_files(ckpt: dict[str, Any], data_dir: Path) -> None:
    """The data in `data_dir` must be the files the checkpoint was trained and tested beside
    (their sha256 is recorded at training): shuffled labels of the same size would otherwise
    give every artifact a wrong accuracy and still a green report."""
    spec = data.get_spec(ckpt["dataset"]["name"])
    data.load_split(spec, data_dir, train=False)  # extracts the .gz files if needed, with clear errors
    recorded = ckpt["dataset"].get("files", {})
    current = data.raw_file_hashes(spec, data_dir)
    differ = sorted(name for name, digest in recorded.items() if current.get(name) != digest)
    if differ:
        raise UserError(f"dataset files {differ} in {data_dir} differ from the ones the checkpoint was trained "
                        f"with; point --data-dir at the original data or retrain with `python -m train`")
