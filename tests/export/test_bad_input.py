"""Each bad input gives its one-line error (exit 2) or its failed rows (exit 1), never a mixed or half run."""
from __future__ import annotations

import json
import types

import pytest
import torch

from common.errors import run_cli
from export import formats
from export.__main__ import main
from export.config import ExportConfig

FAST = ["--formats", "torchscript,onnx", "--quantizations", "none", "--prunings", "none"]


def export_cli(capsys, *argv) -> tuple[int, str]:
    code = run_cli(main, [str(a) for a in argv])
    return code, capsys.readouterr().err


def test_missing_checkpoint(tmp_path, capsys, data_dir):
    code, err = export_cli(capsys, "--checkpoint", tmp_path / "nope.pt", "--out-dir", tmp_path / "a",
                           "--data-dir", data_dir)
    assert code == 2 and "not found" in err and "python -m train" in err and err.count("\n") == 1
    assert not (tmp_path / "a").exists() and not (tmp_path / "a-runs").exists()


def test_truncated_checkpoint(tmp_path, capsys, trained, data_dir):
    cut = tmp_path / "cut.pt"
    cut.write_bytes(trained.read_bytes()[:5000])
    code, err = export_cli(capsys, "--checkpoint", cut, "--out-dir", tmp_path / "a", "--data-dir", data_dir)
    assert code == 2 and "truncated" in err and err.count("\n") == 1


def test_tampered_checkpoint(tmp_path, capsys, trained, data_dir):
    ckpt = torch.load(trained, weights_only=True)
    ckpt["state_dict"]["fc2.weight"] = ckpt["state_dict"]["fc2.weight"].roll(1, dims=0)  # swap class rows
    bad = tmp_path / "tampered.pt"
    torch.save(ckpt, bad)
    code, err = export_cli(capsys, "--checkpoint", bad, "--out-dir", tmp_path / "a", "--data-dir", data_dir)
    assert code == 2 and "tampered" in err and err.count("\n") == 1
    assert not (tmp_path / "a-runs").exists() or not any((tmp_path / "a-runs").iterdir())


@pytest.mark.parametrize("field,value", [("formats", ("tflite",)), ("quantizations", ("int4",)),
                                         ("prunings", ("lottery",)), ("calibration_method", "magic")])
def test_unknown_format_or_variant(field, value):
    with pytest.raises(ValueError, match="valid choices"):
        ExportConfig(**{field: value})


def test_unknown_format_on_the_cli(tmp_path, capsys):
    code, err = export_cli(capsys, "--formats", "torchscript,tflite", "--out-dir", tmp_path / "a")
    assert code == 2 and "tflite" in err and "onnx" in err


def test_output_folder_with_another_run(tmp_path, capsys, trained, data_dir):
    other = tmp_path / "artifacts"
    other.mkdir()
    (other / "manifest.json").write_text("{}")
    code, err = export_cli(capsys, "--checkpoint", trained, "--out-dir", other, "--data-dir", data_dir)
    assert code == 2 and "another run" in err
    assert (other / "manifest.json").read_text() == "{}"  # untouched


def test_backend_throwing_gives_failed_rows_and_nonzero_exit(tmp_path, capsys, monkeypatch, trained, data_dir):
    def build(model, variant, calib, out, **options):
        raise RuntimeError("simulated ONNX exporter crash")
    broken = types.SimpleNamespace(FORMAT="onnx", BACKENDS=("cpu",), EXTENSION=".onnx", build=build,
                                   load=formats.FORMATS["onnx"].load)
    monkeypatch.setitem(formats.FORMATS, "onnx", broken)
    out = tmp_path / "artifacts"
    code, err = export_cli(capsys, "--checkpoint", trained, "--out-dir", out, "--data-dir", data_dir, *FAST)
    assert code == 1 and "simulated ONNX exporter crash" in err
    rows = {a["name"]: a for a in json.loads((out / "manifest.json").read_text())["artifacts"]}
    assert rows["mlp_onnx_fp32"]["status"] == "failed" and rows["mlp_onnx_fp32"]["path"] is None
    assert "simulated ONNX exporter crash" in rows["mlp_onnx_fp32"]["reason"]
    assert rows["mlp_torchscript_fp32"]["status"] == "ok"  # the other backend was still produced
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "mlp_torchscript_fp32.pt", "test_vectors.json"]


def test_outside_tolerance_fails_and_keep_failed_keeps_it(tmp_path, capsys, trained, data_dir):
    out = tmp_path / "artifacts"
    args = ["--checkpoint", trained, "--out-dir", out, "--data-dir", data_dir, "--fp32-tolerance", "0", *FAST]
    code, err = export_cli(capsys, *args)
    first_run = out.resolve()
    rows = {a["name"]: a for a in json.loads((out / "manifest.json").read_text())["artifacts"]}
    # ORT's fp32 Gemm differs from PyTorch by ~1e-5, which a zero tolerance rejects; TorchScript is bit-exact.
    assert code == 1 and "outside tolerance" in rows["mlp_onnx_fp32"]["reason"]
    assert rows["mlp_onnx_fp32"]["path"] is None and rows["mlp_torchscript_fp32"]["status"] == "ok"

    code, err = export_cli(capsys, *args, "--keep-failed", "true")
    kept = {a["name"]: a for a in json.loads((out / "manifest.json").read_text())["artifacts"]}["mlp_onnx_fp32"]
    assert code == 1 and kept["status"] == "failed" and (out / kept["path"]).is_file()
    # The second run went into a fresh folder; the first one is intact and unmixed.
    assert out.resolve() != first_run and not (first_run / "mlp_onnx_fp32.onnx").exists()


def test_a_full_disk_is_not_published_and_the_old_run_stays(tmp_path, capsys, monkeypatch, trained, data_dir):
    """ENOSPC is the disk's fault, not a format's: the run stops, its folder goes, `artifacts` keeps
    pointing at the previous good run (which otherwise would be replaced by one with no usable artifact)."""
    import errno
    out = tmp_path / "artifacts"
    one = ["--checkpoint", trained, "--out-dir", out, "--data-dir", data_dir, "--formats", "onnx",
           "--quantizations", "none", "--prunings", "none"]
    assert export_cli(capsys, *one)[0] == 0
    good = out.resolve()

    def build(model, variant, calib, out, **options):
        raise OSError(errno.ENOSPC, "No space left on device")
    full = types.SimpleNamespace(FORMAT="onnx", BACKENDS=("cpu",), EXTENSION=".onnx", build=build,
                                 load=formats.FORMATS["onnx"].load)
    monkeypatch.setitem(formats.FORMATS, "onnx", full)
    code, err = export_cli(capsys, *one, "--force")  # the same inputs: without --force it would be skipped
    assert code == 2 and err.count("\n") == 1 and "No space left on device" in err and "not published" in err
    assert out.resolve() == good
    assert [p for p in (tmp_path / "artifacts-runs").iterdir() if p.is_dir()] == [good]
