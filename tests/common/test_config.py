"""The shared config machinery: file < flags precedence, typed coercion, bool switches, errors."""
from __future__ import annotations

import argparse
import re

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
    with pytest.raises(UserError, match=r"\[train\] epochs must be an integer, got .many."):
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


def file_config(tmp_path, text: str | bytes, cls=TrainConfig, section="train"):
    path = tmp_path / "p.toml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return config_from_args(cls, section, parse_for(cls, ["--config", str(path)]))


def parse_for(cls, argv):
    parser = argparse.ArgumentParser()
    add_config_flags(parser, cls)
    return parser.parse_args(argv)


@pytest.mark.parametrize("text, message", [
    ("train = 5\n", r"\[train\] in config file .* is a plain value \(5\), not a section"),
    ("[trian]\nepochs = 3\n", r"unknown section\(s\) \['trian'\] .* valid sections: \['train', 'export'"),
    ("[train]\nepochs = true\n", r"\[train\] epochs must be an integer, got true"),
    ("[train]\nepochs = 2.0\n", r"\[train\] epochs must be an integer, got 2.0"),
    ("[train]\nlr = true\n", r"\[train\] lr must be a finite number, got true"),
    ("[train]\nlr = nan\n", r"\[train\] lr must be a finite number, got nan"),
    ("[train]\ndataset = 5\n", r"\[train\] dataset must be a string, got 5"),
    ("[train]\nresume = 1\n", r"\[train\] resume must be true or false, got 1"),
    (b"[train]\nepochs = \xff\n", "not UTF-8 text"),
])
def test_a_bad_config_file_is_one_user_error(tmp_path, text, message):
    with pytest.raises(UserError, match=message):
        file_config(tmp_path, text)


def test_a_folder_as_config_file(tmp_path):
    with pytest.raises(UserError, match="is a folder"):
        config_from_args(TrainConfig, "train", parse(["--config", str(tmp_path)]))


def test_a_decimal_for_an_integer_list_is_refused_alike_from_file_and_flag(tmp_path):
    from runtime.config import RuntimeConfig
    with pytest.raises(UserError, match=r"\[runtime\] batches must be an integer, got 1.9"):
        file_config(tmp_path, "[runtime]\nbatches = [1.9]\n", RuntimeConfig, "runtime")
    with pytest.raises(UserError, match=r"\[runtime\] batches must be an integer, got '1.9'"):
        config_from_args(RuntimeConfig, "runtime", parse_for(RuntimeConfig, ["--batches", "1,1.9"]))


@pytest.mark.parametrize("section, field", [("runtime", "threads"), ("export", "threads")])
def test_threads_have_an_upper_bound_with_one_message(tmp_path, section, field):
    from export.config import ExportConfig
    from runtime.config import RuntimeConfig
    cls = {"runtime": RuntimeConfig, "export": ExportConfig}[section]
    value = "[100000]" if section == "runtime" else "100000"
    with pytest.raises(UserError, match=r"threads must be between \d and \d+, got 100000") as from_file:
        file_config(tmp_path, f"[{section}]\n{field} = {value}\n", cls, section)
    with pytest.raises(UserError) as from_flag:
        config_from_args(cls, section, parse_for(cls, ["--threads", "100000"]))
    assert str(from_file.value) == str(from_flag.value)


def test_every_documented_stage_has_a_config_section():
    from common.config import SECTIONS
    from tools.config_reference import STAGES
    assert {section for _, section in STAGES} <= set(SECTIONS)


def test_a_flags_only_parser_has_no_config_flag_and_reads_no_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pipeline.toml").write_text("[train]\nepochs = 'broken'\n")  # would fail if it were read
    parser = argparse.ArgumentParser()
    add_config_flags(parser, TrainConfig, config_file=False)
    assert "--config" not in parser.format_help()
    assert config_from_args(TrainConfig, "train", parser.parse_args(["--epochs", "2"])).epochs == 2
    with pytest.raises(SystemExit):
        parser.parse_args(["--config", "pipeline.toml"])


def stage_configs():
    from export.config import ExportConfig
    from export.embed import EmbedConfig
    from runtime.config import RuntimeConfig
    from tools.bench import BenchConfig
    from tools.probe import ProbeConfig
    return [(TrainConfig, "train"), (ExportConfig, "export"), (RuntimeConfig, "runtime"), (EmbedConfig, "embed"),
            (BenchConfig, "bench"), (ProbeConfig, "probe")]


def test_every_numeric_field_declares_its_bounds():
    """A number without bounds is how --search-steps 1100 ran 53 s into an OverflowError."""
    import dataclasses
    import typing
    for cls, _ in stage_configs():
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            numeric = hints[f.name] in (int, float, tuple[int, ...], tuple[float, ...])
            assert not numeric or f.metadata["bounds"], f"{cls.__name__}.{f.name} has no declared bounds"


@pytest.mark.parametrize("section, key, value, message", [
    ("export", "search_steps", "1100", "search_steps must be between 1 and 20, got 1100"),
    ("train", "hidden_size", "1000000000", "hidden_size must be between 0 and 16384, got 1000000000"),
    ("train", "lr", "1e30", "lr must be above 0 and at most 10.0, got 1e+30"),
    ("runtime", "min_seconds", "1e300", "min_seconds must be between 0.0 and 600.0, got 1e+300"),
    ("runtime", "batches", "1,100000", "batches must be between 1 and 10000, got 100000"),
    ("export", "formats", "onnx,onnx", "formats lists ['onnx'] more than once"),
    ("runtime", "targets", "cpu,arm64,cpu", "targets lists ['cpu'] more than once"),
    ("export", "formats", "onnx,", "formats has an empty item in 'onnx,'"),
])
def test_out_of_bounds_repeats_and_empty_items_are_one_message_from_a_flag_or_the_file(tmp_path, section, key, value,
                                                                                         message):
    cls = dict((s, c) for c, s in stage_configs())[section]
    with pytest.raises(UserError, match=f"^\\[{section}\\] " + re.escape(message)) as from_flag:
        config_from_args(cls, section, parse_for(cls, [f"--{key.replace('_', '-')}", value]))
    if "," in value:
        return  # a TOML list has no empty items, and its repeats are the same check
    with pytest.raises(UserError) as from_file:
        file_config(tmp_path, f"[{section}]\n{key} = {value}\n", cls, section)
    assert str(from_file.value) == str(from_flag.value)


def test_direct_construction_checks_the_same_bounds():
    with pytest.raises(ValueError, match="epochs must be between 0 and 1000, got -1"):
        TrainConfig(epochs=-1)  # 0 is the model's default
