"""Typed stage configs: one frozen dataclass per stage, one TOML file, CLI flags on top.

Precedence, lowest to highest: dataclass defaults < the stage's section of the
config file (pipeline.toml) < a named preset (e.g. the report's --quick counts) < env DATA_DIR
(for data_dir) < command-line flags. Every field carries its help
text in `metadata["help"]`, which is both its one-line comment and its --flag help,
so the config reference (README) and `--help` cannot drift apart.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import tomllib
import typing
from pathlib import Path
from typing import Any, TypeVar

from common.errors import UserError

C = TypeVar("C")

DEFAULT_CONFIG_FILE = Path("pipeline.toml")
# Every section a config file may hold (tools/config_reference.py documents each; a test keeps them equal).
SECTIONS = ("train", "export", "runtime", "android")


def option(default: Any, help: str, **kw: Any) -> Any:
    """A dataclass field with a default and its help text (shown by --help and the README)."""
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata={"help": help}, **kw)
    return dataclasses.field(default=default, metadata={"help": help}, **kw)


def read_config_file(path: Path | None) -> dict[str, Any]:
    """The whole TOML file as a dict; {} when no file was given and the default is absent.
    Every top-level key must be a known section holding a table: a misspelled `[trian]` would
    otherwise be ignored without a word and its settings silently lost."""
    if path is None:
        if not DEFAULT_CONFIG_FILE.exists():
            return {}
        path = DEFAULT_CONFIG_FILE
    fix = "pass --config with a TOML file that has a section per stage"
    try:
        with open(path, "rb") as f:
            values = tomllib.load(f)
    except FileNotFoundError:
        raise UserError(f"config file {path} not found; pass --config with an existing TOML file") from None
    except IsADirectoryError:
        raise UserError(f"config file {path} is a folder; {fix}") from None
    except OSError as e:
        raise UserError(f"config file {path} cannot be read ({e.strerror}); {fix}") from None
    except UnicodeDecodeError:
        raise UserError(f"config file {path} is not UTF-8 text; save it as UTF-8 TOML") from None
    except tomllib.TOMLDecodeError as e:
        raise UserError(f"config file {path} is not valid TOML ({e}); fix the syntax") from None
    unknown = sorted(set(values) - set(SECTIONS))
    if unknown:
        raise UserError(f"unknown section(s) {unknown} in config file {path}; valid sections: {list(SECTIONS)}")
    for section, table in values.items():
        if not isinstance(table, dict):
            raise UserError(f"[{section}] in config file {path} is a plain value ({table!r}), not a section; "
                            f"write it as a [{section}] table of keys")
    return values


def build_config(cls: type[C], section: str, file_values: dict[str, Any],
                 overrides: dict[str, Any], preset: dict[str, Any] | None = None) -> C:
    """Merge a file section, a preset and CLI overrides into `cls`; unknown keys are errors, not ignored."""
    known = {f.name for f in dataclasses.fields(cls)}
    values = dict(file_values.get(section, {}))
    unknown = sorted(set(values) - known)
    if unknown:
        raise UserError(f"unknown key(s) {unknown} in [{section}] of the config file; "
                        f"valid keys: {sorted(known)}")
    assert set(preset or {}) <= known, f"preset keys not in {cls.__name__}: {sorted(set(preset) - known)}"
    values.update(preset or {})
    values.update({k: v for k, v in overrides.items() if v is not None})
    hints = typing.get_type_hints(cls)
    for name, value in values.items():
        values[name] = _coerce(name, value, hints[name], section)
    try:
        return cls(**values)
    except (TypeError, ValueError) as e:
        raise UserError(f"[{section}] {e}") from None


def _coerce(name: str, value: Any, hint: Any, section: str) -> Any:
    """Turn TOML/CLI values into the field's type; a value of the wrong type, a decimal for an
    integer or a non-finite number is refused with the same message from a flag or the file."""
    origin = typing.get_origin(hint)
    if origin in (tuple, list):
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise UserError(f"[{section}] {name} must be a list, got {value!r}")
        (item,) = set(typing.get_args(hint)) - {Ellipsis}
        return tuple(_coerce(name, v, item, section) for v in value)
    if origin is dict:
        return _coerce_table(name, value, section)
    if hint is Path or hint is str:
        if not isinstance(value, (str, Path)):
            raise UserError(f"[{section}] {name} must be a {'path' if hint is Path else 'string'}, got {value!r}")
        return hint(value)
    if hint is bool:
        return _coerce_bool(name, value, section)
    if hint is int:
        return _coerce_int(name, value, section)
    if hint is float:
        return _coerce_float(name, value, section)
    return value


def _coerce_table(name: str, value: Any, section: str) -> dict:
    """A table: a TOML table in the file, a JSON object on the command line ('{"hidden_size": 256}')."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise UserError(f"[{section}] {name} must be a JSON object on the command line, e.g. "
                            f"'{{\"hidden_size\": 256}}', got {value!r}") from None
    if not isinstance(value, dict):
        raise UserError(f"[{section}] {name} must be a table of keys and values, got {_literal(value)}")
    return value


def _coerce_bool(name: str, value: Any, section: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.lower() in ("true", "1", "yes")
    raise UserError(f"[{section}] {name} must be true or false, got {_literal(value)}")


def _coerce_int(name: str, value: Any, section: str) -> int:
    """An integer: 3 or "3"; never 1.9, "1.9", 2.0 or true (a decimal is a typo, not a truncation)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise UserError(f"[{section}] {name} must be an integer, got {_literal(value)}")


def _coerce_float(name: str, value: Any, section: str) -> float:
    """A finite number: 3, 0.5 or "1e-4"; never true, nan or inf."""
    number = None
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        try:
            number = float(value.strip() if isinstance(value, str) else value)
        except (ValueError, OverflowError):  # OverflowError: an integer beyond float's range
            pass
    if number is None or not math.isfinite(number):
        raise UserError(f"[{section}] {name} must be a finite number, got {_literal(value)}")
    return number


def _literal(value: Any) -> str:
    """A value as the user wrote it: TOML's true/false, Python's repr for the rest."""
    return str(value).lower() if isinstance(value, bool) else repr(value)


def max_threads() -> int:
    """The most threads any setting accepts: 4x the cores, at least 256. Far beyond that, OpenMP
    and ExecuTorch's threadpool hang or crash (100000 segfaulted, 5000 hung on 2 cores)."""
    return max(256, 4 * (os.cpu_count() or 1))


def check_threads(name: str, value: int, low: int = 1) -> None:
    """Raise ValueError unless low <= value <= max_threads(); one message for flags and files."""
    if not low <= value <= max_threads():
        raise ValueError(f"{name} must be between {low} and {max_threads()} (4x this machine's "
                         f"{os.cpu_count()} cores, at least 256), got {value}")


def add_config_flags(parser: argparse.ArgumentParser, cls: type, config_file: bool = True) -> None:
    """One --flag per field; values stay None unless given, so the file can supply them.
    config_file=False (the tools: bench, probe, embed): flags only, no --config and no file section."""
    if config_file:
        parser.add_argument("--config", type=Path, default=None,
                            help=f"TOML config file with a section per stage (default: {DEFAULT_CONFIG_FILE} if present)")
    for f in dataclasses.fields(cls):
        flag = "--" + f.name.replace("_", "-")
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        text = f"{f.metadata.get('help', '')} (default: {_show(default)})".replace("%", "%%")  # argparse formats help with %
        # A bool flag may stand alone (`--embed`) or take a value (`--embed false`).
        switch = {"nargs": "?", "const": "true"} if typing.get_type_hints(cls)[f.name] is bool else {}
        parser.add_argument(flag, dest=f.name, default=None, metavar=f.name.upper(), help=text, **switch)


def config_from_args(cls: type[C], section: str, args: argparse.Namespace,
                     preset: dict[str, Any] | None = None) -> C:
    """The stage config: defaults < config file < preset < env DATA_DIR (for data_dir) < flags.
    A parser made with config_file=False has no --config: the file is not read."""
    file_values = read_config_file(args.config) if "config" in vars(args) else {}
    overrides = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls)}
    if "data_dir" in overrides and overrides["data_dir"] is None and os.environ.get("DATA_DIR"):
        overrides["data_dir"] = os.environ["DATA_DIR"]
    return build_config(cls, section, file_values, overrides, preset)


def given(cls: type, section: str, args: argparse.Namespace) -> set[str]:
    """The fields the user set, by a flag or in the config file (the rest are defaults)."""
    in_file = set(read_config_file(args.config).get(section, {}))
    return in_file | {f.name for f in dataclasses.fields(cls) if getattr(args, f.name, None) is not None}


def _show(value: Any) -> str:
    """A default as typed on the command line: lists comma-separated, empty shown as such."""
    if isinstance(value, (tuple, list)):
        return ",".join(str(v) for v in value) if value else "(empty)"
    return str(value) if value != "" else "(empty)"


def as_dict(cfg: Any) -> dict[str, Any]:
    """A config as plain JSON/TOML-friendly values (Paths as strings), for checkpoints and reports."""
    out = {}
    for k, v in dataclasses.asdict(cfg).items():
        out[k] = str(v) if isinstance(v, Path) else list(v) if isinstance(v, tuple) else v
    return out


def reference_table(cls: type, section: str) -> str:
    """The config reference of one stage as a Markdown table (the README embeds these;
    tests/test_readme.py fails when the README and the dataclasses disagree)."""
    lines = [f"### [{section}]", "", "| key | default | meaning |", "|---|---|---|"]
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        shown = _show(default).replace("|", "\\|")
        lines.append(f"| `{f.name}` | `{shown}` | {f.metadata.get('help', '').replace('|', chr(92) + '|')} |")
    return "\n".join(lines)
