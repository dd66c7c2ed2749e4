"""Which model a checkpoint holds, and building it again from that record alone.

A ModelSpec is plain data (it goes into the checkpoint, loaded with weights_only=True): the model's
name (a key of train.model.MODELS, or "package.module:ClassName" for a class on the Python path),
its constructor's keyword arguments, the input it takes and its class count. build() imports the
class by that recorded path (never unpickled), constructs it and checks, on a probe batch, that it
returns [batch, classes]. Every way this can fail is one UserError that names the stage, the model
and the fix.
"""
from __future__ import annotations

import contextlib
import dataclasses
import importlib
import inspect
import io
import logging
import re
import warnings
from typing import Any

import torch
from torch import nn

from common.errors import UserError, one_line
from train.model import MODELS

IMPORT_PATH = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*")
INPUT_SHAPE = (1, 28, 28)  # one normalized grayscale image, CHW: every dataset here is 28 x 28
PROBE_BATCH = 2            # torch.export specializes a batch of 0 or 1, so every probe uses 2
PLAIN = (bool, int, float, str, type(None))


def check_name(name: str) -> None:
    """ValueError unless `name` is a shipped model or a package.module:ClassName path."""
    if name not in MODELS and not IMPORT_PATH.fullmatch(name):
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(MODELS)} or name your own class as "
                         f"package.module:ClassName")


def stem_of(name: str) -> str:
    """A model's name in file names (checkpoints/<stem>.pt, <stem>_onnx_int8-static.onnx): the shipped
    name, or the class name in lower case with '-' for '_' (the artifact name's separator)."""
    return name if name in MODELS else name.rpartition(":")[2].lower().replace("_", "-")


def _plain(v: Any) -> bool:
    """Numbers, strings, booleans, None, and lists and string-keyed tables of them."""
    if isinstance(v, (list, tuple)):
        return all(_plain(x) for x in v)
    if isinstance(v, dict):
        return all(isinstance(k, str) and _plain(x) for k, x in v.items())
    return isinstance(v, PLAIN)


def check_args(args: Any) -> None:
    """ValueError unless `args` is a dict of plain values (what a weights_only checkpoint can hold)."""
    if not isinstance(args, dict) or not _plain(args):
        raise ValueError(f"model_args must be a table of plain values (numbers, strings, booleans, lists), "
                         f"got {args!r}")


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    name: str                                   # a key of MODELS, or package.module:ClassName
    args: dict[str, Any]                        # the constructor's keyword arguments, complete
    classes: int                                # logits per image
    input_shape: tuple[int, ...] = INPUT_SHAPE  # per image, without the batch dimension

    @classmethod
    def for_training(cls, name: str, args: dict[str, Any], classes: int) -> "ModelSpec":
        """The spec of a new model: a shipped model (or a class with a `num_classes` argument) is given
        the dataset's class count unless `args` sets it; the constructor's plain defaults are written
        out, so the record stays complete if a default changes later."""
        check_name(name)
        check_args(args)
        params = inspect.signature(resolve(name, "train")).parameters
        classes_arg = MODELS[name].classes_arg if name in MODELS else "num_classes" if "num_classes" in params else None
        given = {classes_arg: classes, **args} if classes_arg else dict(args)
        keyword = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        defaults = {k: p.default for k, p in params.items()
                    if p.kind in keyword and p.default is not p.empty and _plain(p.default)}
        return cls(name, {**defaults, **given}, classes)

    @property
    def stem(self) -> str:
        return stem_of(self.name)

    def record(self) -> dict[str, Any]:
        """As the checkpoint and the manifest hold it."""
        return {"name": self.name, "args": dict(self.args), "classes": self.classes,
                "input": {"name": "input", "shape": list(self.input_shape), "dtype": "float32"}}

    @classmethod
    def from_record(cls, rec: dict[str, Any]) -> "ModelSpec":
        check_name(rec["name"])
        check_args(rec["args"])
        return cls(rec["name"], dict(rec["args"]), int(rec["classes"]), tuple(rec["input"]["shape"]))


def resolve(name: str, stage: str) -> type[nn.Module]:
    """The class: from MODELS, or imported by its recorded path (importing runs the module's code,
    as `import` does: name only modules you trust)."""
    if name in MODELS:
        return MODELS[name].cls
    module_name, _, class_name = name.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as e:  # noqa: BLE001 - user code: any error while importing it is the model's problem
        raise UserError(f"{stage}: model {name!r} does not import ({one_line(e)}); put {module_name} on the "
                        f"Python path (run from its folder, set PYTHONPATH, or pip install it)") from None
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        found = "is missing" if cls is None else f"is a {type(cls).__name__}, not an nn.Module class"
        raise UserError(f"{stage}: model {name!r}: {class_name} {found} in {module_name}; name a torch.nn.Module "
                        f"subclass as package.module:ClassName")
    return cls


def build(spec: ModelSpec, stage: str) -> nn.Module:
    """The model with fresh weights, in eval mode, checked to map [N, *input_shape] to [N, classes]."""
    cls = resolve(spec.name, stage)
    try:
        model = cls(**spec.args)
    except Exception as e:  # noqa: BLE001 - the user's constructor may raise anything for bad arguments
        raise UserError(f"{stage}: model {spec.name!r} rejects its arguments {spec.args} ({one_line(e)}); "
                        f"fix model_args (or the class)") from None
    if not isinstance(model, nn.Module):
        raise UserError(f"{stage}: model {spec.name!r} made a {type(model).__name__}, not an nn.Module")
    check_output(model.eval(), spec, stage)
    return model


@torch.no_grad()
def check_output(model: nn.Module, spec: ModelSpec, stage: str) -> None:
    """One forward on a zero batch (eval mode: batch-norm statistics stay untouched)."""
    shape = [PROBE_BATCH, *spec.input_shape]
    try:
        out = model(torch.zeros(shape))
    except Exception as e:  # noqa: BLE001 - the user's forward may raise anything
        raise UserError(f"{stage}: model {spec.name!r} fails on a batch of images {shape} ({one_line(e)}); "
                        f"its forward must take normalized images [batch, {', '.join(map(str, spec.input_shape))}]"
                        ) from None
    got = list(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
    if got != [PROBE_BATCH, spec.classes]:
        raise UserError(f"{stage}: model {spec.name!r} returns {got} for {shape}, expected [{PROBE_BATCH}, "
                        f"{spec.classes}] ([batch, classes]); make forward return one row of class scores per image")


def check_exportable(model: nn.Module, spec: ModelSpec, stage: str) -> torch.export.ExportedProgram:
    """torch.export with a dynamic batch: what the ONNX and ExecuTorch exporters need. Refused early,
    so a model they cannot take fails before training or before anything is written."""
    batch = torch.export.Dim("batch")
    # A failing torch.export prints the partial graph (pages of it) to stderr and logs warnings before
    # it raises: the user gets the one line below instead.
    logging.disable(logging.WARNING)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            return torch.export.export(model.eval(), (torch.zeros(PROBE_BATCH, *spec.input_shape),),
                                       dynamic_shapes=({0: batch},))
    except Exception as e:  # noqa: BLE001 - torch.export raises many types for untraceable code
        raise UserError(f"{stage}: model {spec.name!r} cannot be traced by torch.export with a dynamic batch "
                        f"({one_line(e)[:200]}); the ONNX and ExecuTorch exporters need it: avoid data-dependent "
                        f"Python control flow and fixed batch sizes in forward") from None
    finally:
        logging.disable(logging.NOTSET)
