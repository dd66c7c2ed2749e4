"""train/checkpoint.py: every damaged file is one UserError naming the fix, never a torch traceback."""
from __future__ import annotations

import dataclasses

import pytest
import torch

from common.errors import UserError, run_cli
from train import checkpoint
from train.model import MLP, MLPConfig
from train.model_spec import ModelSpec, build

MLP8 = ModelSpec("mlp", {"input_size": 784, "hidden_size": 8, "output_size": 10}, 10)


def tiny_checkpoint(path, spec=MLP8, **changes):
    """A structurally complete checkpoint of `spec`'s model, a 784-8-10 MLP by default (no training
    needed to test the loader)."""
    obj = {"format": checkpoint.FORMAT, "state_dict": build(spec, "test").state_dict() if "state_dict" not in changes else {},
           "model": spec.record(), "train": {"seed": 0, "val_size": 5000},
           "dataset": {"name": "mnist", "files": {}}, "metrics": {"test_accuracy": 0.1}}
    obj.update(changes)
    torch.save(obj, path)
    return path


def test_a_good_file_loads(tmp_path):
    model, ckpt = checkpoint.load_model(tiny_checkpoint(tmp_path / "mlp.pt"))
    assert model.fc1.out_features == 8 and ckpt["train"]["seed"] == 0


def test_an_mlp_only_checkpoint_of_the_earlier_format_still_loads(tmp_path):
    """"mlp-checkpoint/1" files (the MLP's arguments as the model dict) load as the same MLP."""
    cfg = MLPConfig(784, 8, 10)
    weights = MLP.from_config(cfg).state_dict()
    old = tiny_checkpoint(tmp_path / "mlp.pt", format="mlp-checkpoint/1", model=dataclasses.asdict(cfg),
                          state_dict=weights)
    model, ckpt = checkpoint.load_model(old)
    assert isinstance(model, MLP) and model.fc1.out_features == 8 and torch.equal(model.fc1.weight, weights["fc1.weight"])
    assert ckpt["model"]["name"] == "mlp" and ckpt["model"]["args"] == dataclasses.asdict(cfg)
    assert ckpt["model"]["input"]["shape"] == [1, 28, 28]


@pytest.mark.parametrize("cut", [0, 1, 30, 100, 400, 1000, -200, -22, -1])
def test_empty_and_truncated_files(tmp_path, cut):
    whole = tiny_checkpoint(tmp_path / "whole.pt").read_bytes()
    damaged = tmp_path / "mlp.pt"
    damaged.write_bytes(whole[:cut])
    with pytest.raises(UserError, match="empty|truncated or not a PyTorch checkpoint") as e:
        checkpoint.load_model(damaged)
    assert "delete it" in str(e.value) and "\n" not in str(e.value)


def record(**args):
    return ModelSpec("mlp", {"input_size": 784, "hidden_size": 8, "output_size": 10, **args}, 10).record()


@pytest.mark.parametrize("changes, message", [
    ({"model": {"name": "mlp"}}, r"'model' has missing or mistyped \['args', 'classes', 'input'\]"),
    ({"model": record(hidden_size=9)},
     r"does not fit model 'mlp' .*shape differs: fc1.weight \[8, 784\] in the checkpoint, \[9, 784\] in the class"),
    ({"model": record(hidden_size=-8)}, "model 'mlp' rejects its arguments .*hidden_size must be a positive"),
    ({"model": {**record(), "name": "no such model!"}}, "its model record is unusable .*unknown model"),
    ({"format": "mlp-checkpoint/1", "model": {"input_size": 784}},
     r"'model' has missing or mistyped \['hidden_size', 'output_size'\]"),
    ({"train": [1, 2]}, "'train' is not a dict"),
    ({"train": {"seed": True, "val_size": 1}}, r"mistyped \['seed'\]"),
    ({"dataset": {"files": {}}}, r"mistyped \['name'\]"),
    ({"state_dict": {"fc1.weight": 3}}, "not a mapping of names to tensors"),
    ({"format": "something-else/9"}, "foreign checkpoint"),
])
def test_wrong_keys_and_types(tmp_path, changes, message):
    with pytest.raises(UserError, match=message):
        checkpoint.load_model(tiny_checkpoint(tmp_path / "mlp.pt", **changes))


def test_not_a_dict(tmp_path):
    torch.save([torch.zeros(2)], tmp_path / "list.pt")
    with pytest.raises(UserError, match="not one of ours"):
        checkpoint.load(tmp_path / "list.pt")


def test_a_folder_is_not_told_to_be_deleted(tmp_path):
    with pytest.raises(UserError, match="is a folder, not a file") as e:
        checkpoint.load_model(tmp_path)
    assert "delete" not in str(e.value) and str(tmp_path / "mlp.pt") in str(e.value)


def test_an_empty_resume_file_with_real_data(tmp_path, data_dir, capsys):
    from train.__main__ import main
    (tmp_path / "mlp.resume.pt").write_bytes(b"")
    code = run_cli(main, ["--out-dir", str(tmp_path), "--data-dir", str(data_dir), "--epochs", "1"])
    err = capsys.readouterr().err
    assert code == 2 and "resume file" in err and "empty" in err and err.count("\n") == 1
