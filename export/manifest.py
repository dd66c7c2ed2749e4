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

from train.errors import UserError
from train.files import atomic_write_json, sha256_file

SCHEMA_VERSION = 1
STATUSES = ("ok", "failed", "unsupported")
VERSIONED_PACKAGES = ("torch", "torchvision", "torchao", "onnx", "onnxruntime", "onnxscript", "executorch", "numpy")


@dataclasses.dataclass
class Artifact:
    name: str
    format: str
    backend: str
    quantization: str
    pruning: str
    status: str                          # ok | failed | unsupported
    reason: str | None = None            # why failed/unsupported
    path: str | None = None              # relative to the manifest; set only when the file is kept
    sha256: str | None = None
    size_bytes: int | None = None
    notes: list[str] = dataclasses.field(default_factory=list)
    test_accuracy: float | None = None   # fraction, full test set, via the artifact's own runtime
    parity: dict[str, float] | None = None  # {max_abs_diff, top1_agreement} vs its source model
    source_model_test_accuracy: float | None = None
    seconds: float | None = None         # build + verify wall time on the exporting machine

    def __post_init__(self) -> None:
        assert self.status in STATUSES, self.status


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in VERSIONED_PACKAGES:
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


def read(path: Path) -> dict[str, Any]:
    """A manifest, with one-line errors for a missing, unreadable or foreign file."""
    path = Path(path)
    if path.is_dir():
        path = path / "manifest.json"
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise UserError(f"manifest {path} not found; run `python -m export` first") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"manifest {path} is not valid JSON ({e}); run `python -m export` again") from None
    if not isinstance(manifest, dict) or manifest.get("schema_version") != SCHEMA_VERSION:
        raise UserError(f"manifest {path} has schema_version {manifest.get('schema_version') if isinstance(manifest, dict) else None!r}, "
                        f"expected {SCHEMA_VERSION}; re-export with this version of `python -m export`")
    return manifest


def resolve(manifest_path: Path, row: dict[str, Any], check_sha256: bool = True) -> Path:
    """The file of a manifest row, refused if it leaves the manifest's folder or its hash differs."""
    root = Path(manifest_path).resolve().parent
    if not row.get("path"):
        raise UserError(f"artifact {row.get('name')!r} has no file (status {row.get('status')}: {row.get('reason')})")
    target = (root / row["path"]).resolve()
    if not target.is_relative_to(root):
        raise UserError(f"artifact {row['name']!r} path {row['path']!r} leaves the manifest folder {root}; "
                        f"refusing to load it")
    if not target.is_file():
        raise UserError(f"artifact file {target} is missing; run `python -m export` again")
    if check_sha256 and sha256_file(target) != row.get("sha256"):
        raise UserError(f"artifact file {target} does not match the manifest's sha256 (changed or corrupt); "
                        f"run `python -m export` again")
    return target
