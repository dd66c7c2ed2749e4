"""export/manifest.py: the one Artifact, and the schema every reader's manifest is checked against on load."""
from __future__ import annotations

import dataclasses
import json

import pytest

from common.errors import UserError, run_cli
from export import manifest
from export.manifest import Artifact

SHA = "ab" * 32


def row(**changes):
    base = {"name": "mlp_onnx_fp32", "format": "onnx", "backend": "cpu", "quantization": "none", "pruning": "none",
            "status": "ok", "reason": None, "path": "mlp_onnx_fp32.onnx", "sha256": SHA, "size_bytes": 3}
    return {**base, **changes}


def write(folder, rows, **header):
    doc = {"schema_version": 1, "checkpoint": {"path": "c.pt", "sha256": SHA}, "reference": {"test_accuracy": 0.97},
           "accuracy_budget_pp": 0.3, "artifacts": rows}
    doc.update(header)
    path = folder / "manifest.json"
    path.write_text(json.dumps(doc))
    return path


def test_a_valid_manifest_with_the_agreed_optional_fields(tmp_path):
    search = {"chosen": {"sparsity": 0.5}, "candidates": [{"setting": {"sparsity": 0.9}, "val_accuracy": 0.9,
                                                           "size_bytes": None}], "best": None}
    rows = [row(), row(name="r", status="rejected", reason="no setting within budget", path=None, sha256=None,
                size_bytes=None, search=search, some_future_field=[1])]
    doc = manifest.read(write(tmp_path, rows, exporter={"executorch": "1.5.1"}, test_vectors={
        "path": "test_vectors.json", "sha256": SHA, "count": 32}))
    parsed = [Artifact.from_dict(e, "here") for e in doc["artifacts"]]
    assert parsed[1].status == "rejected" and parsed[1].search == search


@pytest.mark.parametrize("changes, message", [
    ({"path": None}, "status ok needs path, sha256 and size_bytes"),
    ({"name": 5}, "name is 5, expected str"),
    ({"size_bytes": "3"}, "size_bytes is \"3\", expected int | None"),
    ({"size_bytes": True}, "size_bytes is true"),
    ({"status": "great"}, "unknown status \"great\"; valid: \\['ok', 'failed', 'unsupported', 'rejected'\\]"),
    ({"format": "tflite"}, "unknown format \"tflite\"; valid: \\["),
    ({"backend": "xnnpack"}, "unknown backend \"xnnpack\" for onnx"),
    ({"status": "failed"}, "status failed needs a reason"),
    ({"path": "/etc/passwd"}, "must be a relative path inside"),
    ({"path": "../x.onnx"}, "must be a relative path inside"),
    ({"sha256": "xyz"}, "needs a sha256 of 64 hex digits"),
    ({"notes": "one"}, "notes is \"one\", expected list\\[str\\]"),
    ({"parity": {"max_abs_diff": "big"}}, "parity is"),
])
def test_a_wrong_row_is_one_user_error_naming_the_field(tmp_path, changes, message):
    with pytest.raises(UserError, match=message) as e:
        manifest.read(write(tmp_path, [row(**changes)]))
    assert "artifacts[0]" in str(e.value) and "python -m export" in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("header, message", [
    ({"accuracy_budget_pp": "0.3"}, "accuracy_budget_pp is \"0.3\""),
    ({"accuracy_budget_pp": float("nan")}, "accuracy_budget_pp is nan"),
    ({"checkpoint": "c.pt"}, "checkpoint is \"c.pt\""),
    ({"reference": {"test_accuracy": "high"}}, "reference is"),
    ({"artifacts": {"a": 1}}, "artifacts is"),  # replaces the list of rows
    ({"test_vectors": {"path": "../tv.json", "sha256": SHA}}, "test_vectors: path"),
])
def test_a_wrong_header_is_one_user_error(tmp_path, header, message):
    with pytest.raises(UserError, match=message):
        manifest.read(write(tmp_path, [row()], **header))


def test_repeated_names_and_a_non_object(tmp_path):
    with pytest.raises(UserError, match="repeats artifact names"):
        manifest.read(write(tmp_path, [row(), row()]))
    (tmp_path / "manifest.json").write_text("[1, 2]")
    with pytest.raises(UserError, match="is a list, not a JSON object"):
        manifest.read(tmp_path / "manifest.json")
    (tmp_path / "manifest.json").write_bytes(b"\xff\xfe\x00{")
    with pytest.raises(UserError, match="not valid JSON"):
        manifest.read(tmp_path / "manifest.json")


def test_there_is_one_artifact_type():
    from runtime import manifest as runtime_manifest
    assert runtime_manifest.Artifact is Artifact
    assert "search" in {f.name for f in dataclasses.fields(Artifact)} and "rejected" in manifest.STATUSES


def test_the_report_refuses_a_mistyped_manifest_before_measuring(tmp_path, capsys):
    from runtime.__main__ import main
    path = write(tmp_path, [row(path=None)])
    code = run_cli(main, ["--manifest", str(path), "--out-dir", str(tmp_path / "r"), "--targets", "cuda"])
    err = capsys.readouterr().err
    assert code == 2 and "status ok needs path" in err and err.count("\n") == 1
    assert not (tmp_path / "r" / "latency_report.json").exists()
