"""The report's typed view of artifacts/manifest.json (contract: docs/manifest.md).

Parsing and the safety checks are export.manifest's (one implementation for every reader).
A broken manifest is the user's problem (UserError: re-run the export). A broken *artifact*
is a row of the report: `verified_path` raises ArtifactError with the reason, and the
caller records a `failed` row and goes on to the next artifact.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from common.errors import UserError
from export.manifest import ArtifactError, inside, read, verified_file

__all__ = ["Artifact", "ArtifactError", "Manifest", "inside", "read_manifest", "verified_path"]
ARTIFACT_REQUIRED = ("name", "format", "backend", "quantization", "pruning", "path", "sha256", "status")


@dataclasses.dataclass(frozen=True)
class Artifact:
    name: str
    format: str             # torchscript | torchscript-lite | onnx | executorch
    backend: str            # cpu | xnnpack | portable
    quantization: str       # none | int8-dynamic | int8-static
    pruning: str            # none | unstructured | structured
    path: str | None        # relative to the manifest's folder
    sha256: str | None
    status: str             # ok | failed | unsupported | rejected (export's verdict)
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
    raw = read(path)
    fix = "run `python -m export` to write a fresh one"
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


def verified_path(manifest: Manifest, artifact: Artifact) -> Path:
    """The artifact's file, checked to be inside the folder and to match its sha256 BEFORE any load."""
    return verified_file(manifest.folder, artifact.path, artifact.sha256)
