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
from typing import Any, Callable, TypeVar

from common.errors import UserError

C = TypeVar("C")

DEFAULT_CONFIG_FILE = Path("pipeline.toml")
# Every section a config file may hold (tools/config_reference.py documents each; a test keeps them equal).
SECTIONS = ("train", "export", "runtime", "android")


Bound = int | float | Callable[[], float] | None  # a number, or a function read when the value is checked


def option(default: Any, help: str, *, low: Bound = None, high: Bound = None, above: Bound = None,
           below: Bound = None, **kw: Any) -> Any:
    """A dataclass field with a default, its help text (shown by --help and the README) and, for a
    number or a list of numbers, its bounds: low <= value <= high, above < value < below (each
    optional; a callable is read when checked, e.g. max_threads). check_fields and build_config
    enforce them, with one message for a flag and the config file."""
    bounds = {k: v for k, v in (("low", low), ("high", high), ("above", above), ("below", below)) if v is not None}
    metadata = {"help": help, "bounds": bounds}
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=metadata, **kw)
    return dataclasses.field(default=default, metadata=metadata, **kw)


def check_fields(cfg: Any) -> None:
    """Raise ValueError for the first field of `cfg` outside its declared bounds, or a list field
    naming an item twice (`--formats onnx,onnx` would build and overwrite one artifact twice)."""
    for f in dataclasses.fields(cfg):
        _check_field(f, getattr(cfg, f.name))


def _check_field(f: dataclasses.Field, value: Any) -> None:
    items = value if isinstance(value, (tuple, list)) else (value,)
    if isinstance(value, (tuple, list)):
        repeated = sorted({v for v in value if value.count(v) > 1}, key=str)
        if repeated:
            raise ValueError(f"{f.name} lists {repeated} more than once; give each once")
    bounds = {k: v() if callable(v) else v for k, v in f.metadata.get("bounds", {}).items()}
    for v in items:
        if bounds and isinstance(v, (int, float)) and not isinstance(v, bool) and not _within(v, bounds):
            raise ValueError(f"{f.name} must be {_describe(bounds)}, got {v}")


def _within(v: float, b: dict[str, float]) -> bool:
    return (v >= b.get("low", v) and v <= b.get("high", v)
            and ("above" not in b or v > b["above"]) and ("below" not in b or v < b["below"]))


def _describe(b: dict[str, float]) -> str:
    if "low" in b and "high" in b:
        return f"between {b['low']} and {b['high']}"
    words = {"low": "at least", "above": "above", "high": "at most", "below": "below"}
    return " and ".join(f"{words[k]} {b[k]}" for k in ("low", "above", "high", "below") if k in b)


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
    fields = {f.name: f for f in dataclasses.fields(cls)}
    try:
        for name, value in values.items():
            values[name] = _coerce(name, value, hints[name], section)
            _check_field(fields[name], values[name])  # before __post_init__ computes with it
        return cls(**values)
    except (TypeError, ValueError) as e:
        raise UserError(f"[{section}] {e}") from None


def _coerce(name: str, value: Any, hint: Any, section: str) -> Any:
    """Turn TOML/CLI values into the field's type; a value of the wrong type, a decimal for an
    integer or a non-finite number is refused with the same message from a flag or the file."""
    origin = typing.get_origin(hint)
    if origin in (tuple, list):
        if isinstance(value, str):  # "" is the empty list; "," or "a,,b" is a typo, not a shorter list
            items = [v.strip() for v in value.split(",")] if value.strip() else []
            if "" in items:
                raise UserError(f"[{section}] {name} has an empty item in {value!r}; separate items with "
                                f"single commas")
            value = items
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
    lines = [f"### [{section}]", "", "| key | default | range | meaning |", "|---|---|---|---|"]
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        shown = _show(default).replace("|", "\\|")
        lines.append(f"| `{f.name}` | `{shown}` | {_range(f.metadata.get('bounds', {}))} | "
                     f"{f.metadata.get('help', '').replace('|', chr(92) + '|')} |")
    return "\n".join(lines)


def _range(bounds: dict[str, Any]) -> str:
    """A field's declared bounds as the reference shows them: `1 to 20`, `> 0, <= 10`; a computed
    bound by its rule, not this machine's value (the README must not depend on the machine)."""
    shown = {k: "max(256, 4x cores)" if v is max_threads else f"{v:g}" if isinstance(v, float) else f"{v:,}"
             for k, v in bounds.items()}
    if "low" in shown and "high" in shown:
        return f"{shown['low']} to {shown['high']}"
    signs = {"low": ">=", "above": ">", "high": "<=", "below": "<"}
    return ", ".join(f"{signs[k]} {shown[k]}" for k in ("low", "above", "high", "below") if k in shown)
