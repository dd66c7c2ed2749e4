"""The shared config machinery: file < flags precedence, typed coercion, bool switches, errors."""
from __future__ import annotations

import argparse

import pytest

from common.config import add_config_flags, build_config, config_from_args
from common.errors import UserError
from train.config import TrainConfig


def parse(argv):
    parser = argparse.ArgumentParser()
    add_config_flags(parser, TrainConfig)
    return parser.parse_args(argv)


def test_flags_override_the_file_which_overrides_defaults(tmp_path):
    cfg_file = tmp_path / "p.toml"
    cfg_file.write_text('[train]\nepochs = 5\nhidden_size = 256\n')
    cfg = config_from_args(TrainConfig, "train", parse(["--config", str(cfg_file), "--epochs", "7"]))
    assert (cfg.epochs, cfg.hidden_size, cfg.batch_size) == (7, 256, 64)


def test_bool_flags_stand_alone_or_take_a_value():
    assert parse(["--resume"]).resume == "true"
    assert parse(["--resume", "false", "--epochs", "2"]).resume == "false"
    assert build_config(TrainConfig, "train", {}, {"resume": "false"}).resume is False
    assert build_config(TrainConfig, "train", {}, {"resume": "true"}).resume is True


def test_bad_types_say_which_key(tmp_path):
    with pytest.raises(UserError, match=r"\[train\] epochs must be a number, got 'many'"):
        build_config(TrainConfig, "train", {}, {"epochs": "many"})
    with pytest.raises(UserError, match="resume must be true or false"):
        build_config(TrainConfig, "train", {}, {"resume": "perhaps"})
    bad = tmp_path / "bad.toml"
    bad.write_text("[train\nepochs = 3")
    with pytest.raises(UserError, match="not valid TOML"):
        config_from_args(TrainConfig, "train", parse(["--config", str(bad)]))


def test_data_dir_env_beats_the_file_and_a_flag_beats_the_env(tmp_path, monkeypatch):
    cfg_file = tmp_path / "p.toml"
    cfg_file.write_text('[train]\ndata_dir = "from-file"\n')
    monkeypatch.setenv("DATA_DIR", "from-env")
    assert str(config_from_args(TrainConfig, "train", parse(["--config", str(cfg_file)])).data_dir) == "from-env"
    flagged = parse(["--config", str(cfg_file), "--data-dir", "from-flag"])
    assert str(config_from_args(TrainConfig, "train", flagged).data_dir) == "from-flag"
    monkeypatch.delenv("DATA_DIR")
    assert str(config_from_args(TrainConfig, "train", parse(["--config", str(cfg_file)])).data_dir) == "from-file"


def test_a_preset_beats_the_file_and_a_flag_beats_the_preset(tmp_path):
    cfg_file = tmp_path / "p.toml"
    cfg_file.write_text('[train]\nepochs = 5\nbatch_size = 32\n')
    preset = {"epochs": 1, "hidden_size": 16}
    cfg = config_from_args(TrainConfig, "train", parse(["--config", str(cfg_file), "--hidden-size", "8"]), preset)
    assert (cfg.epochs, cfg.hidden_size, cfg.batch_size) == (1, 8, 32)
