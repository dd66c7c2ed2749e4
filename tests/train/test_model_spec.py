"""Models by name or import path (train/model_spec.py): each shipped model and a user's class build
and check their output; each way a named class can be bad is one line, exit 2, at train and at export,
with nothing written."""
from __future__ import annotations

import pytest
import torch

from common.errors import UserError, run_cli
from train import checkpoint
from train.__main__ import main as train_main
from train.model import MODELS, CNN
from train.model_spec import ModelSpec, build

from tests.train import user_models
from tests.train.test_checkpoint import tiny_checkpoint

USER = "tests.train.user_models:"


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_shipped_model_maps_images_to_class_scores(name):
    spec = ModelSpec.for_training(name, {}, classes=26)
    assert build(spec, "test")(torch.zeros(3, 1, 28, 28)).shape == (3, 26)
    assert spec.record()["args"][MODELS[name].classes_arg] == 26  # the class count is filled in


def test_the_cnn_is_lenet_shaped():
    layers = [type(m).__name__ for m in CNN().modules()][1:]
    assert layers.count("Conv2d") == 2 and layers.count("Linear") == 2 and "MaxPool2d" in layers


def test_a_user_class_gets_its_defaults_and_the_class_count_recorded():
    spec = ModelSpec.for_training(USER + "TinyNet", {"width": 6}, classes=10)
    assert spec.args == {"width": 6, "num_classes": 10} and spec.stem == "tinynet"
    assert ModelSpec.from_record(spec.record()) == spec


def train_error(capsys, tmp_path, *argv) -> str:
    code = run_cli(train_main, ["--out-dir", str(tmp_path / "ckpt"), "--data-dir", str(tmp_path / "no-data"),
                                *map(str, argv)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    written = [p.name for p in (tmp_path / "ckpt").iterdir()] if (tmp_path / "ckpt").exists() else []
    assert all(name.endswith(".stage.json.lock") for name in written), written  # nothing but the stage's lock
    return err


@pytest.mark.parametrize("model, args, message", [
    ("no_such_package.nets:Net", "{}", "train: model 'no_such_package.nets:Net' does not import "
                                       r"\(ModuleNotFoundError: No module named 'no_such_package'\); put"),
    (USER + "Missing", "{}", "Missing is missing in tests.train.user_models"),
    (USER + "NOT_A_CLASS", "{}", "NOT_A_CLASS is a int, not an nn.Module class"),
    (USER + "NeedsDepth", "{}", r"train: model '.*NeedsDepth' rejects its arguments \{'num_classes': 10\} "
                                r"\(TypeError: .*depth"),
    (USER + "TinyNet", '{"colour": 3}', r"rejects its arguments .*unexpected keyword argument 'colour'"),
    (USER + "FiveScores", "{}", r"train: model '.*FiveScores' returns \[2, 5\] for \[2, 1, 28, 28\], "
                                r"expected \[2, 10\] \(\[batch, classes\]\)"),
    (USER + "DataDependent", "{}", "train: model '.*DataDependent' cannot be traced by torch.export"),
    ("cnn", '{"hidden_size": 0}', r"rejects its arguments .*hidden_size must be a positive integer, got 0"),
])
def test_bad_models_stop_training_before_any_work(capsys, tmp_path, model, args, message):
    import re
    err = train_error(capsys, tmp_path, "--model", model, "--model-args", args)
    assert re.search(message, err), err


@pytest.mark.parametrize("argv, message", [
    (["--model", "resnet"], "unknown model 'resnet'; choose one of ['cnn', 'mlp'] or name your own class"),
    (["--model", "cnn", "--hidden-size", "64"], "hidden_size sizes the MLP only; for model 'cnn' set its arguments"),
    (["--hidden-size", "64", "--model-args", '{"hidden_size": 32}'], "hidden_size is given twice"),
    (["--model-args", "{hidden_size: 3"], "model_args must be a JSON object on the command line"),
    (["--model-args", "[1, 2]"], "model_args must be a table of keys and values"),
])
def test_bad_model_config(capsys, tmp_path, argv, message):
    assert message in train_error(capsys, tmp_path, *argv)


# ------------------------------------------------------------------ the same at the export stage

def export_error(capsys, tmp_path, ckpt) -> str:
    from export.__main__ import main as export_main
    code = run_cli(export_main, ["--checkpoint", str(ckpt), "--out-dir", str(tmp_path / "artifacts"),
                                 "--data-dir", str(tmp_path / "no-data")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert not (tmp_path / "artifacts").exists() and not (tmp_path / "artifacts-runs").exists()  # nothing published
    return err


def user_checkpoint(tmp_path, cls: str, args: dict | None = None, state: dict | None = None):
    spec = ModelSpec(USER + cls, args or {}, 10)
    weights = state if state is not None else getattr(user_models, cls)(**spec.args).state_dict()
    return tiny_checkpoint(tmp_path / "user.pt", spec, state_dict=weights)


def test_export_names_the_stage_for_a_model_that_no_longer_imports(capsys, tmp_path):
    ckpt = torch.load(user_checkpoint(tmp_path, "TinyNet"), weights_only=True)
    ckpt["model"]["name"] = "renamed_package.nets:TinyNet"
    torch.save(ckpt, tmp_path / "moved.pt")
    assert "export: model 'renamed_package.nets:TinyNet' does not import" in export_error(capsys, tmp_path,
                                                                                          tmp_path / "moved.pt")


def test_export_refuses_a_model_torch_export_cannot_trace(capsys, tmp_path):
    err = export_error(capsys, tmp_path, user_checkpoint(tmp_path, "DataDependent"))
    assert f"export: model '{USER}DataDependent' cannot be traced by torch.export" in err


def test_export_refuses_wrong_output_and_rejected_arguments(capsys, tmp_path):
    err = export_error(capsys, tmp_path, user_checkpoint(tmp_path, "FiveScores"))
    assert "export: model" in err and "returns [2, 5]" in err
    state = user_models.NeedsDepth(depth=2).state_dict()
    err = export_error(capsys, tmp_path, user_checkpoint(tmp_path, "NeedsDepth", {}, state))
    assert "export: model" in err and "rejects its arguments" in err


def test_a_class_that_changed_shape_since_training_is_one_line(capsys, tmp_path, monkeypatch):
    ckpt = user_checkpoint(tmp_path, "TinyNet")
    monkeypatch.setattr(user_models, "TinyNet", user_models.TinyNetWider)  # the author edits the class
    err = export_error(capsys, tmp_path, ckpt)
    assert f"export: checkpoint {ckpt} does not fit model '{USER}TinyNet' as its class is now" in err
    assert "hidden.weight [32, 144] in the checkpoint, [48, 144] in the class" in err
    with pytest.raises(UserError, match="load: checkpoint .* does not fit"):
        checkpoint.load_model(ckpt)  # the report's stage reads it the same way
