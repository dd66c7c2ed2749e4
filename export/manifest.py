"""manifest.json: what was exported, how it was checked, and where the files are (docs/manifest.md).

Writers: export.pipeline. Readers: runtime, the Android app, the browser demo. Helpers here let
a reader resolve a row to a file safely: the path must stay inside the manifest's folder and the
file's sha256 must match before anything loads it.
"""
from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import platform
from pathlib import Path
from typing import Any

from common.errors import UserError
from common.files import atomic_write_json, sha256_file

SCHEMA_VERSION = 1
STATUSES = ("ok", "failed", "unsupported", "rejected")  # rejected: no setting within the accuracy budget
REQUIRED = ("schema_version", "checkpoint", "reference", "accuracy_budget_pp", "artifacts")
VERSIONED_PACKAGES = ("torch", "torchvision", "torchao", "onnx", "onnxruntime", "onnxscript", "executorch", "numpy")


@dataclasses.dataclass
class Artifact:
    name: str
    format: str
    backend: str
    quantization: str
    pruning: str
    status: str                          # ok | failed | unsupported | rejected
    reason: str | None = None            # why failed/unsupported/rejected
    path: str | None = None              # relative to the manifest; set only when the file is kept
    sha256: str | None = None
    size_bytes: int | None = None
    notes: list[str] = dataclasses.field(default_factory=list)
    test_accuracy: float | None = None   # fraction, full test set, via the artifact's own runtime
    parity: dict[str, float] | None = None  # {max_abs_diff, top1_agreement} vs its source model
    source_model_test_accuracy: float | None = None
    seconds: float | None = None         # build + verify wall time on the exporting machine
    search: dict[str, Any] | None = None  # compression search: {chosen, candidates, best} (export.search)

    def __post_init__(self) -> None:
        assert self.status in STATUSES, self.status


def versions(packages: tuple[str, ...] = VERSIONED_PACKAGES) -> dict[str, str]:
    """Installed versions of `packages` (and Python), "not installed" for the absent ones."""
    out = {"python": platform.python_version()}
    for name in packages:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def write(path: Path, header: dict[str, Any], artifacts: list[Artifact]) -> dict[str, Any]:
    """Write manifest.json atomically; every listed file must exist with the recorded hash."""
    for a in artifacts:
        if a.path is not None:
            assert sha256_file(path.parent / a.path) == a.sha256, f"{a.name}: file changed after hashing"
    manifest = {"schema_version": SCHEMA_VERSION, **header, "artifacts": [dataclasses.asdict(a) for a in artifacts]}
    atomic_write_json(path, manifest)
    return manifest


class ArtifactError(UserError):
    """One artifact's file cannot be used (outside the folder, missing, hash differs). A reader that
    goes on with the other artifacts (the latency report) catches it and records a failed row."""


def read(path: Path) -> dict[str, Any]:
    """A manifest, with one-line errors for a missing, unreadable or foreign file."""
    path = Path(path)
    if path.is_dir():
        path = path / "manifest.json"
    fix = "run `python -m export` to write a fresh one"
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise UserError(f"manifest {path} not found; {fix} (or pass the right path)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"manifest {path} is not valid JSON ({e}); {fix}") from None
    if not isinstance(manifest, dict):
        raise UserError(f"manifest {path} is not a JSON object; {fix}")
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise UserError(f"manifest {path} has schema_version {manifest.get('schema_version')!r}, this checkout "
                        f"reads {SCHEMA_VERSION}; {fix} with this checkout")
    missing = [k for k in REQUIRED if k not in manifest]
    if missing:
        raise UserError(f"manifest {path} lacks {missing}; {fix}")
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
