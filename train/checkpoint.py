"""The checkpoint: everything later stages need, loadable with torch.load(weights_only=True).

Layout of checkpoints/<model>.pt (a dict of tensors and plain Python values):
  format        "model-checkpoint/2"
  state_dict    the selected (best validation) weights
  model         ModelSpec.record(): {name, args, classes, input: {name, shape, dtype}}
  train         TrainConfig as a dict
  dataset       {name, classes, mean, std, input_shape, files: {IDX file: sha256}}
  metrics       {test_accuracy, val_accuracy, epochs, best_epoch, seconds, ...}
Checkpoints of the MLP-only format "mlp-checkpoint/1" (model: MLPConfig as a dict) still load:
load() reads them as the same record with name "mlp".
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import torch
from torch import nn

from common.errors import UserError, one_line
from common.files import atomic_write
from train import data, model_spec
from train.model_spec import ModelSpec

FORMAT = "model-checkpoint/2"
MLP_FORMAT = "mlp-checkpoint/1"  # the MLP-only layout before models had names; read, never written
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
    "model": (dict, {"name": str, "args": dict, "classes": int, "input": dict}),
    "train": (dict, {"seed": int, "val_size": int}),
    "dataset": (dict, {"name": str, "files": dict}),
    "metrics": (dict, {"test_accuracy": float}),
}


def load(path: Path) -> dict[str, Any]:
    """A trained checkpoint, validated: the right format and every field later stages read, typed."""
    obj = load_raw(path)
    missing = [k for k in REQUIRED if k not in obj]
    if obj.get("format") == MLP_FORMAT and not missing:
        obj = _from_mlp_format(path, obj)
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


def _from_mlp_format(path: Path, obj: dict[str, Any]) -> dict[str, Any]:
    """An "mlp-checkpoint/1" file as the current layout: its model dict is the MLP's arguments."""
    args = obj["model"]
    fields = {"input_size": int, "hidden_size": int, "output_size": int}
    bad = [f for f, t in fields.items() if not isinstance(args, dict) or not _is(args.get(f), t)]
    if bad:
        raise UserError(f"{path} is damaged: 'model' has missing or mistyped {bad}; retrain with `python -m train`")
    record = ModelSpec("mlp", {f: args[f] for f in fields}, args["output_size"]).record()
    return {**obj, "format": FORMAT, "model": record}


def _is(value: Any, kind: type | tuple[type, ...]) -> bool:
    """isinstance, except that a bool is not an int (True would pass as a seed)."""
    return isinstance(value, kind) and not isinstance(value, bool)


def load_model(path: Path, stage: str = "load") -> tuple[nn.Module, dict[str, Any]]:
    """The trained model in eval mode, rebuilt from the checkpoint's record alone, plus the checkpoint
    dict it came from. `stage` names the caller in error messages (train, export, report)."""
    ckpt = load(path)
    try:
        spec = ModelSpec.from_record(ckpt["model"])
    except (KeyError, TypeError, ValueError) as e:
        raise UserError(f"{path} is damaged: its model record is unusable ({one_line(e)[:160]}); "
                        f"retrain with `python -m train`") from None
    model = model_spec.build(spec, stage)
    problem = state_dict_problem(model, ckpt["state_dict"])
    if problem:
        raise UserError(f"{stage}: checkpoint {path} does not fit model {spec.name!r} as its class is now "
                        f"({problem}); restore the class it was trained with, or retrain with `python -m train`")
    model.load_state_dict(ckpt["state_dict"])
    return model.eval(), ckpt


def state_dict_problem(model: nn.Module, state: dict[str, torch.Tensor]) -> str | None:
    """What keeps `state` from loading into `model`, in one line: missing, unexpected or reshaped tensors."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    reshaped = [f"{k} {list(state[k].shape)} in the checkpoint, {list(v.shape)} in the class"
                for k, v in expected.items() if k in state and state[k].shape != v.shape]
    parts = [f"{label} {', '.join(items[:3])}{', ...' if len(items) > 3 else ''}" for label, items in
             (("missing", missing), ("unexpected", unexpected), ("shape differs:", reshaped)) if items]
    return "; ".join(parts) or None


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
