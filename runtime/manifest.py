"""The report's typed view of artifacts/manifest.json (contract: docs/manifest.md).

Parsing, the schema and the safety checks are export.manifest's (one Artifact, one validator,
for every reader). A broken manifest is the user's problem (UserError: re-run the export). A
broken *artifact file* is a row of the report: `verified_path` raises ArtifactError with the
reason, and the caller records a `failed` row and goes on to the next artifact; `loadable_path`
also has the file's runtime load it first in a child process, so a file that crashes its runtime
is such a row too, not the end of the report.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from export import isolated
from export.manifest import Artifact, ArtifactError, inside, read, verified_file

__all__ = ["Artifact", "ArtifactError", "Manifest", "inside", "loadable_path", "read_manifest", "verified_path"]


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
    """Parse and validate the manifest (export.manifest.read); any problem is one UserError naming the fix."""
    path = Path(path)
    raw = read(path)
    artifacts = tuple(Artifact.from_dict(entry, f"manifest {path}: artifacts[{i}]")
                      for i, entry in enumerate(raw["artifacts"]))
    return Manifest(path=path, folder=path.resolve().parent,
                    checkpoint_sha256=raw["checkpoint"].get("sha256"),
                    reference_accuracy=raw["reference"].get("test_accuracy"),
                    accuracy_budget_pp=float(raw["accuracy_budget_pp"]),
                    artifacts=artifacts, raw=raw)


def verified_path(manifest: Manifest, artifact: Artifact) -> Path:
    """The artifact's file, checked to be inside the folder and to match its sha256 BEFORE any load."""
    return verified_file(manifest.folder, artifact.path, artifact.sha256)


def loadable_path(manifest: Manifest, artifact: Artifact) -> Path:
    """verified_path, then the file's first load and call in a child process (export.isolated, once
    per file): a file that crashes its runtime raises ArtifactError before this process loads it."""
    path = verified_path(manifest, artifact)
    crash = isolated.check(artifact.format, path, artifact.sha256)
    if crash:
        raise ArtifactError(f"{artifact.path}: {crash}; the file is corrupt: re-run `python -m export`")
    return path
