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
import os
import tomllib
import typing
from pathlib import Path
from typing import Any, TypeVar

from common.errors import UserError

C = TypeVar("C")

DEFAULT_CONFIG_FILE = Path("pipeline.toml")


def option(default: Any, help: str, **kw: Any) -> Any:
    """A dataclass field with a default and its help text (shown by --help and the README)."""
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata={"help": help}, **kw)
    return dataclasses.field(default=default, metadata={"help": help}, **kw)


def read_config_file(path: Path | None) -> dict[str, Any]:
    """The whole TOML file as a dict; {} when no file was given and the default is absent."""
    if path is None:
        if not DEFAULT_CONFIG_FILE.exists():
            return {}
        path = DEFAULT_CONFIG_FILE
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise UserError(f"config file {path} not found; pass --config with an existing TOML file") from None
    except tomllib.TOMLDecodeError as e:
        raise UserError(f"config file {path} is not valid TOML ({e}); fix the syntax") from None


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
    """Turn TOML/CLI values into the field's type, with a clear message when impossible."""
    origin = typing.get_origin(hint)
    if origin in (tuple, list):
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise UserError(f"[{section}] {name} must be a list, got {value!r}")
        (item,) = set(typing.get_args(hint)) - {Ellipsis}
        return tuple(_coerce(name, v, item, section) for v in value)
    if hint is Path:
        return Path(value)
    if hint is bool and isinstance(value, str):
        if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise UserError(f"[{section}] {name} must be true or false, got {value!r}")
        return value.lower() in ("true", "1", "yes")
    if hint in (int, float) and not isinstance(value, bool):
        try:
            return hint(value)
        except (TypeError, ValueError):
            raise UserError(f"[{section}] {name} must be a number, got {value!r}") from None
    return value


def add_config_flags(parser: argparse.ArgumentParser, cls: type) -> None:
    """One --flag per field; values stay None unless given, so the file can supply them."""
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
    """The stage config: defaults < config file < preset < env DATA_DIR (for data_dir) < flags."""
    file_values = read_config_file(args.config)
    overrides = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls)}
    if "data_dir" in overrides and overrides["data_dir"] is None and os.environ.get("DATA_DIR"):
        overrides["data_dir"] = os.environ["DATA_DIR"]
    return build_config(cls, section, file_values, overrides, preset)


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
