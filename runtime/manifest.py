"""Our own reader of artifacts/manifest.json (contract: docs/manifest.md).

A broken manifest is the user's problem (UserError: re-run the export). A broken *artifact*
is a row of the report: `verified_path` raises ArtifactError with the reason, and the
caller records a `failed` row and goes on to the next artifact.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from train.errors import UserError
from train.files import sha256_file

SCHEMA_VERSION = 1
REQUIRED = ("schema_version", "checkpoint", "reference", "accuracy_budget_pp", "artifacts")
ARTIFACT_REQUIRED = ("name", "format", "backend", "quantization", "pruning", "path", "sha256", "status")


class ArtifactError(Exception):
    """This artifact cannot be used; the message is the row's reason."""


@dataclasses.dataclass(frozen=True)
class Artifact:
    name: str
    format: str             # torchscript | torchscript-lite | onnx | executorch
    backend: str            # cpu | xnnpack | portable
    quantization: str       # none | int8-dynamic | int8-static
    pruning: str            # none | unstructured | structured
    path: str | None        # relative to the manifest's folder
    sha256: str | None
    status: str             # ok | failed | unsupported (export's verdict)
    reason: str | None
    size_bytes: int | None
    entry: dict[str, Any]   # the whole manifest entry, for anything else a report wants


@dataclasses.dataclass(frozen=True)
class Manifest:
    path: Path
    folder: Path
    checkpoint_sha256: str | None
    reference_accuracy: float | None
    accuracy_budget_pp: float
    artifacts: tuple[Artifact, ...]
    raw: dict[str, Any]


def read_manifest(path: Path) -> Manifest:
    """Parse and validate the manifest; any structural problem is one UserError naming the fix."""
    path = Path(path)
    fix = "run `python -m export` to write a fresh one"
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        raise UserError(f"manifest {path} not found; {fix} (or pass --manifest)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"manifest {path} is not valid JSON ({e}); {fix}") from None
    if not isinstance(raw, dict):
        raise UserError(f"manifest {path} is not a JSON object; {fix}")
    missing = [k for k in REQUIRED if k not in raw]
    if missing:
        raise UserError(f"manifest {path} lacks {missing}; {fix}")
    if raw["schema_version"] != SCHEMA_VERSION:
        raise UserError(f"manifest {path} has schema_version {raw['schema_version']!r}, this runtime reads "
                        f"{SCHEMA_VERSION}; {fix} with this checkout")
    artifacts = tuple(_artifact(path, i, entry) for i, entry in enumerate(raw["artifacts"]))
    names = [a.name for a in artifacts]
    if len(set(names)) != len(names):
        raise UserError(f"manifest {path} repeats artifact names {sorted({n for n in names if names.count(n) > 1})}; {fix}")
    return Manifest(path=path, folder=path.resolve().parent,
                    checkpoint_sha256=(raw.get("checkpoint") or {}).get("sha256"),
                    reference_accuracy=(raw.get("reference") or {}).get("test_accuracy"),
                    accuracy_budget_pp=float(raw["accuracy_budget_pp"]),
                    artifacts=artifacts, raw=raw)


def _artifact(path: Path, index: int, entry: Any) -> Artifact:
    if not isinstance(entry, dict):
        raise UserError(f"manifest {path}: artifacts[{index}] is not an object; run `python -m export` again")
    missing = [k for k in ARTIFACT_REQUIRED if k not in entry]
    if missing:
        raise UserError(f"manifest {path}: artifacts[{index}] ({entry.get('name', '?')}) lacks {missing}; "
                        f"run `python -m export` again")
    return Artifact(name=entry["name"], format=entry["format"], backend=entry["backend"],
                    quantization=entry["quantization"], pruning=entry["pruning"], path=entry["path"],
                    sha256=entry["sha256"], status=entry["status"], reason=entry.get("reason"),
                    size_bytes=entry.get("size_bytes"), entry=entry)


def inside(folder: Path, relative: str) -> Path:
    """`folder / relative`, refusing anything that resolves outside `folder` (absolute paths,
    `..`, symlinks pointing out): a manifest must not make us read arbitrary files."""
    folder = folder.resolve()
    if Path(relative).is_absolute():
        raise ArtifactError(f"path {relative!r} is absolute; manifest paths must be relative to {folder}")
    target = (folder / relative).resolve()
    if not target.is_relative_to(folder):
        raise ArtifactError(f"path {relative!r} leaves the manifest's folder {folder}; refused")
    return target


def verified_path(manifest: Manifest, artifact: Artifact) -> Path:
    """The artifact's file, checked to be inside the folder and to match its sha256 BEFORE any load."""
    if not artifact.path or not artifact.sha256:
        raise ArtifactError("manifest gives no path or sha256 for this artifact")
    target = inside(manifest.folder, artifact.path)
    if not target.is_file():
        raise ArtifactError(f"file {artifact.path} is missing from {manifest.folder}; re-run `python -m export`")
    actual = sha256_file(target)
    if actual != artifact.sha256:
        raise ArtifactError(f"sha256 mismatch: {artifact.path} is {actual[:12]}..., the manifest says "
                            f"{artifact.sha256[:12]}...; not loaded (re-run `python -m export`)")
    return target
