"""train/checkpoint.py: every damaged file is one UserError naming the fix, never a torch traceback."""
from __future__ import annotations

import dataclasses

import pytest
import torch

from common.errors import UserError, run_cli
from train import checkpoint
from train.model import MLP, MLPConfig


def tiny_checkpoint(path, **changes):
    """A structurally complete checkpoint of a 784-8-10 MLP (no training needed to test the loader)."""
    cfg = MLPConfig(784, 8, 10)
    obj = {"format": checkpoint.FORMAT, "state_dict": MLP.from_config(cfg).state_dict(),
           "model": dataclasses.asdict(cfg), "train": {"seed": 0, "val_size": 5000},
           "dataset": {"name": "mnist", "files": {}}, "metrics": {"test_accuracy": 0.1}}
    obj.update(changes)
    torch.save(obj, path)
    return path


def test_a_good_file_loads(tmp_path):
    model, ckpt = checkpoint.load_model(tiny_checkpoint(tmp_path / "mlp.pt"))
    assert model.fc1.out_features == 8 and ckpt["train"]["seed"] == 0


@pytest.mark.parametrize("cut", [0, 1, 30, 100, 400, 1000, -200, -22, -1])
def test_empty_and_truncated_files(tmp_path, cut):
    whole = tiny_checkpoint(tmp_path / "whole.pt").read_bytes()
    damaged = tmp_path / "mlp.pt"
    damaged.write_bytes(whole[:cut])
    with pytest.raises(UserError, match="empty|truncated or not a PyTorch checkpoint") as e:
        checkpoint.load_model(damaged)
    assert "delete it" in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("changes, message", [
    ({"model": {"input_size": 784}}, r"'model' has missing or mistyped \['hidden_size', 'output_size'\]"),
    ({"model": {"input_size": 784, "hidden_size": 9, "output_size": 10}}, "do not fit its model config"),
    ({"model": {"input_size": 784, "hidden_size": -8, "output_size": 10}}, "do not fit its model config"),
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
