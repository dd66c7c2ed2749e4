"""runtime/manifest.py: schema checks, paths that leave the folder, sha256 checked before loading."""
import json
import os

import pytest

from common.errors import UserError
from common.files import sha256_file
from runtime.manifest import ArtifactError, inside, read_manifest, verified_path


def write_manifest(folder, artifacts, **extra):
    data = {"schema_version": 1, "checkpoint": {"sha256": None}, "reference": {"test_accuracy": 0.97},
            "accuracy_budget_pp": 0.3, "artifacts": artifacts, **extra}
    path = folder / "manifest.json"
    path.write_text(json.dumps(data))
    return path


def entry(name, path, sha256):
    return {"name": name, "format": "onnx", "backend": "cpu", "quantization": "none", "pruning": "none",
            "path": path, "sha256": sha256, "status": "ok", "size_bytes": 3}


def test_reads_a_valid_manifest(tmp_path):
    (tmp_path / "a.onnx").write_bytes(b"abc")
    m = read_manifest(write_manifest(tmp_path, [entry("a", "a.onnx", sha256_file(tmp_path / "a.onnx"))]))
    assert m.accuracy_budget_pp == 0.3 and [a.name for a in m.artifacts] == ["a"]
    assert verified_path(m, m.artifacts[0]) == (tmp_path / "a.onnx").resolve()


@pytest.mark.parametrize("content, message", [
    (None, "not found"),
    ("{not json", "not valid JSON"),
    (json.dumps({"schema_version": 2, "checkpoint": {}, "reference": {}, "accuracy_budget_pp": 0.3,
                 "artifacts": []}), "schema_version 2"),
    (json.dumps({"schema_version": 1}), "lacks"),
])
def test_a_broken_manifest_is_one_user_error(tmp_path, content, message):
    path = tmp_path / "manifest.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(UserError, match=message):
        read_manifest(path)


def test_sha256_mismatch_is_refused_before_loading(tmp_path):
    (tmp_path / "a.onnx").write_bytes(b"abc")
    m = read_manifest(write_manifest(tmp_path, [entry("a", "a.onnx", "0" * 64)]))
    with pytest.raises(ArtifactError, match="sha256 mismatch"):
        verified_path(m, m.artifacts[0])


def test_paths_that_leave_the_folder_are_refused(tmp_path):
    folder = tmp_path / "artifacts"
    folder.mkdir()
    (tmp_path / "secret").write_text("x")
    os.symlink(tmp_path / "secret", folder / "link.onnx")
    for bad in ("../secret", str(tmp_path / "secret"), "link.onnx"):
        with pytest.raises(ArtifactError, match="absolute|leaves"):
            inside(folder, bad)
    assert inside(folder, "sub/../ok.onnx") == (folder / "ok.onnx").resolve()
