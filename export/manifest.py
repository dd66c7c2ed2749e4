"""manifest.json: what was exported, how it was checked, and where the files are (docs/manifest.md).

Writers: export.pipeline. Readers: runtime, the Android app, the browser demo. Helpers here let
a reader resolve a row to a file safely: the path must stay inside the manifest's folder and the
file's sha256 must match before anything loads it.
"""
from __future__ import annotations

import dataclasses
import json
import math
import re
import types
import typing
from pathlib import Path
from typing import Any

from common import stages
from common.errors import UserError, one_line
from common.files import atomic_write_json, sha256_file

SCHEMA_VERSION = 1
STATUSES = ("ok", "failed", "unsupported", "rejected")  # rejected: no compression setting met the budget
REQUIRED = ("schema_version", "checkpoint", "reference", "accuracy_budget_pp", "artifacts")
VERSIONED_PACKAGES = ("torch", "torchvision", "torchao", "onnx", "onnxruntime", "onnxscript", "executorch", "numpy")
SHA256 = re.compile(r"[0-9a-f]{64}")
# The manifest's top-level keys and their types (docs/manifest.md); keys not listed are allowed
# (readers ignore them), listed ones must have these types, REQUIRED ones must be present.
HEADER: dict[str, Any] = {
    "schema_version": int, "run_id": str, "created_utc": str,
    "checkpoint": dict[str, str | None], "reference": dict[str, float | None],
    "accuracy_budget_pp": float, "fp32_tolerance": float, "artifacts": list,
    "test_vectors": dict[str, Any], "versions": dict[str, Any], "exporter": dict[str, Any],
    "dataset": dict[str, Any], "model": dict[str, Any], "input": dict[str, Any], "output": dict[str, Any], "config": dict[str, Any],
}


@dataclasses.dataclass
class Artifact:
    """One row of the manifest: the one definition the exporter writes and every reader reads.
    Its type hints are the row's schema: `Artifact.from_dict` checks a row against them."""
    name: str
    format: str                          # a name in export.formats.FORMATS
    backend: str                         # one of that format's BACKENDS
    quantization: str
    pruning: str
    status: str                          # one of STATUSES
    reason: str | None = None            # why not ok (required then)
    path: str | None = None              # relative to the manifest; set only when the file is kept
    sha256: str | None = None
    size_bytes: int | None = None
    notes: list[str] = dataclasses.field(default_factory=list)
    test_accuracy: float | None = None   # fraction, full test set, via the artifact's own runtime
    parity: dict[str, float] | None = None  # {max_abs_diff, top1_agreement} vs its source model
    source_model_test_accuracy: float | None = None
    seconds: float | None = None         # build + verify wall time on the exporting machine
    search: dict[str, Any] | None = None  # compression search: {"chosen", "candidates", "best"}

    def __post_init__(self) -> None:
        assert self.status in STATUSES, self.status

    @classmethod
    def from_dict(cls, entry: Any, where: str) -> "Artifact":
        """A row read from JSON, checked first; UserError("<where>: <what is wrong>; <fix>") otherwise."""
        problem = artifact_problem(entry)
        if problem:
            name = entry.get("name") if isinstance(entry, dict) else None
            raise UserError(f"{where}{f' ({name})' if isinstance(name, str) else ''}: {problem}; {FIX}")
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in entry.items() if k in known})


FIX = "run `python -m export` to write a fresh one"


def artifact_problem(entry: Any) -> str | None:
    """What makes `entry` an invalid manifest row, or None: types, status, the fields each status
    needs, a known format and backend, a sha256 of 64 hex digits, a path that stays in its folder."""
    if not isinstance(entry, dict):
        return f"is a {type(entry).__name__}, not an object"
    problem = fields_problem(Artifact, entry)
    if problem:
        return problem
    if entry["status"] not in STATUSES:
        return f"unknown status {_short(entry['status'])}; valid: {list(STATUSES)}"
    backends = known_formats()
    if entry["format"] not in backends:
        return f"unknown format {_short(entry['format'])}; valid: {sorted(backends)}"
    valid_backends = backends[entry["format"]]
    if entry["backend"] not in valid_backends:
        return f"unknown backend {_short(entry['backend'])} for {entry['format']}; valid: {list(valid_backends)}"
    if entry["status"] == "ok" and any(entry.get(k) is None for k in ("path", "sha256", "size_bytes")):
        return "status ok needs path, sha256 and size_bytes"
    if entry["status"] != "ok" and not entry.get("reason"):
        return f"status {entry['status']} needs a reason"
    return file_problem(entry.get("path"), entry.get("sha256"))


def file_problem(path: Any, sha256: Any) -> str | None:
    """A listed file's path and hash: both or neither, relative, no `..`, 64 hex digits."""
    if path is None:
        return None
    if not isinstance(path, str) or not path or Path(path).is_absolute() or ".." in Path(path).parts:
        return f"path {_short(path)} must be a relative path inside the manifest's folder"
    if not isinstance(sha256, str) or not SHA256.fullmatch(sha256):
        return f"path {path!r} needs a sha256 of 64 hex digits, got {_short(sha256)}"
    return None


def known_formats() -> dict[str, tuple[str, ...]]:
    """format -> its backends, from the one registry (imported here: it loads every exporter)."""
    from export import formats
    return {name: tuple(module.BACKENDS) for name, module in formats.FORMATS.items()}


def fields_problem(cls: type, entry: dict[str, Any]) -> str | None:
    """The first field of dataclass `cls` that `entry` (a JSON object) lacks or holds with the wrong
    type, in one phrase; None when every field fits."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if f.name not in entry:
            if required:
                return f"lacks {f.name!r}"
        elif not fits(entry[f.name], hints[f.name]):
            return f"{f.name} is {_short(entry[f.name])}, expected {_type_name(hints[f.name])}"
    return None


def fits(value: Any, hint: Any) -> bool:
    """Whether a JSON value has the type `hint` (str, int, float, list[X], dict[str, X], X | None).
    A bool is not a number; an int is a float (JSON writes 1.0 as 1 in other languages)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(fits(value, h) for h in args)
    if hint is type(None):
        return value is None
    if isinstance(value, bool):
        return hint is bool
    if hint is float:
        return isinstance(value, (int, float))
    if origin is list:
        return isinstance(value, list) and all(fits(v, args[0]) for v in value)
    if origin is dict:
        return isinstance(value, dict) and all(isinstance(k, str) and fits(v, args[1]) for k, v in value.items())
    return isinstance(value, origin or hint)


def _type_name(hint: Any) -> str:
    return str(hint).replace("typing.", "").replace("<class '", "").replace("'>", "")


def _short(value: Any) -> str:
    """A value for a one-line message: its JSON spelling, cut at 60 characters."""
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def manifest_problem(manifest: Any) -> str | None:
    """What makes a whole manifest invalid, or None (see HEADER and artifact_problem)."""
    if not isinstance(manifest, dict):
        return f"is a {type(manifest).__name__}, not a JSON object"
    if manifest.get("schema_version") != SCHEMA_VERSION:
        return (f"has schema_version {_short(manifest.get('schema_version'))}, this checkout reads "
                f"{SCHEMA_VERSION} (write it with this checkout)")
    missing = [k for k in REQUIRED if k not in manifest]
    if missing:
        return f"lacks {missing}"
    for key, hint in HEADER.items():
        if key in manifest and not fits(manifest[key], hint):
            return f"{key} is {_short(manifest[key])}, expected {_type_name(hint)}"
    budget = manifest["accuracy_budget_pp"]
    if not (math.isfinite(budget) and budget >= 0):
        return f"accuracy_budget_pp is {budget}, expected a finite number >= 0"
    vectors = manifest.get("test_vectors")
    if vectors is not None:
        problem = file_problem(vectors.get("path"), vectors.get("sha256")) if vectors.get("path") else "lacks a path"
        if problem:
            return f"test_vectors: {problem}"
    for i, entry in enumerate(manifest["artifacts"]):
        problem = artifact_problem(entry)
        if problem:
            return f"artifacts[{i}]{_named(entry)}: {problem}"
    names = [a["name"] for a in manifest["artifacts"]]
    repeated = sorted({n for n in names if names.count(n) > 1})
    return f"repeats artifact names {repeated}" if repeated else None


def _named(entry: Any) -> str:
    name = entry.get("name") if isinstance(entry, dict) else None
    return f" ({name})" if isinstance(name, str) else ""


def versions(packages: tuple[str, ...] = VERSIONED_PACKAGES) -> dict[str, str]:
    """Installed versions of `packages` (and Python), "not installed" for the absent ones."""
    return stages.versions(*packages)


def write(path: Path, header: dict[str, Any], artifacts: list[Artifact]) -> dict[str, Any]:
    """Write manifest.json atomically; every listed file must exist with the recorded hash."""
    for a in artifacts:
        if a.path is not None:
            assert sha256_file(path.parent / a.path) == a.sha256, f"{a.name}: file changed after hashing"
    manifest = {"schema_version": SCHEMA_VERSION, **header, "artifacts": [dataclasses.asdict(a) for a in artifacts]}
    problem = manifest_problem(json.loads(json.dumps(manifest)))  # as a reader will see it
    assert problem is None, f"the exporter made an invalid manifest: {problem}"
    atomic_write_json(path, manifest)
    return manifest


class ArtifactError(UserError):
    """One artifact's file cannot be used (outside the folder, missing, hash differs). A reader that
    goes on with the other artifacts (the latency report) catches it and records a failed row."""


def read(path: Path) -> dict[str, Any]:
    """A manifest, validated once here against its schema (manifest_problem): every reader gets
    either a manifest whose fields have the documented types or one UserError naming the fix."""
    path = Path(path)
    if path.is_dir():
        path = path / "manifest.json"
    try:
        manifest = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise UserError(f"manifest {path} not found; {FIX} (or pass the right path)") from None
    except OSError as e:
        raise UserError(f"manifest {path} cannot be read ({e.strerror}); {FIX}") from None
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as e:
        raise UserError(f"manifest {path} is not valid JSON ({one_line(e)[:120]}); {FIX}") from None
    problem = manifest_problem(manifest)
    if problem:
        raise UserError(f"manifest {path} {problem}; {FIX}")
    return manifest


def inside(folder: Path, relative: str) -> Path:
    """`folder / relative`, refusing anything that resolves outside `folder` (absolute paths, `..`,
    symlinks pointing out): a manifest must never make a reader open an arbitrary file."""
    folder = Path(folder).resolve()
    if Path(relative).is_absolute():
        raise ArtifactError(f"path {relative!r} is absolute; manifest paths must be relative to {folder}")
    target = (folder / relative).resolve()
    if not target.is_relative_to(folder):
        raise ArtifactError(f"path {relative!r} leaves the manifest's folder {folder}; refused")
    return target


def verified_file(folder: Path, relative: str | None, sha256: str | None) -> Path:
    """The file at `relative`, checked to be inside `folder` and to match `sha256` BEFORE any load."""
    if not relative or not sha256:
        raise ArtifactError("the manifest gives no path or sha256 for this file")
    target = inside(folder, relative)
    if not target.is_file():
        raise ArtifactError(f"file {relative} is missing from {folder}; re-run `python -m export`")
    actual = sha256_file(target)
    if actual != sha256:
        raise ArtifactError(f"sha256 mismatch: {relative} is {actual[:12]}..., the manifest says {sha256[:12]}... "
                            f"(changed or corrupt); not loaded: re-run `python -m export`")
    return target


def resolve(manifest_path: Path, row: dict[str, Any]) -> Path:
    """The verified file of one manifest row (see verified_file)."""
    return verified_file(Path(manifest_path).resolve().parent, row.get("path"), row.get("sha256"))
