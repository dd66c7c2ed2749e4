"""Each bad input gives its one-line error (exit 2) or its failed rows (exit 1), never a mixed or half run."""
from __future__ import annotations

import json
import types

import pytest
import torch

from common import owner
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
    assert sorted(p.name for p in out.iterdir()) == [owner.MARKER, "manifest.json", "mlp_torchscript_fp32.pt",
                                                     "test_vectors.json"]


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


ONE = ["--formats", "onnx", "--quantizations", "none", "--prunings", "none"]


def no_runs(out) -> bool:
    runs_dir = out.parent / f"{out.name}-runs"
    return not runs_dir.exists() or not [p for p in runs_dir.iterdir() if p.is_dir()]


def test_embed_names_and_demo_folders_are_checked_before_any_work(tmp_path, capsys, monkeypatch, trained, data_dir):
    from export import embed
    out = tmp_path / "artifacts"
    base = ["--checkpoint", trained, "--out-dir", out, "--data-dir", data_dir, *ONE, "--embed"]
    code, err = export_cli(capsys, *base, "--embed-artifacts", "mlp_onnx_fp33")
    assert code == 2 and err.count("\n") == 1 and "unknown embed_artifacts ['mlp_onnx_fp33']" in err
    assert "mlp_onnx_fp32" in err and no_runs(out)
    # Another model's name passes the config (the checkpoint is not read yet), not the checkpoint's model.
    code, err = export_cli(capsys, *base, "--embed-artifacts", "cnn_onnx_fp32")
    assert code == 2 and err.count("\n") == 1 and "unknown embed_artifacts ['cnn_onnx_fp32']" in err
    assert "holds model 'mlp'" in err and no_runs(out)
    assets = tmp_path / "assets"
    assets.mkdir()
    (assets / "keep.txt").write_text("a user's file")
    monkeypatch.setattr(embed, "ANDROID_ASSETS", assets)
    monkeypatch.setattr(embed, "WEB_MODELS", tmp_path / "web")
    code, err = export_cli(capsys, *base)
    assert code == 2 and err.count("\n") == 1 and f"refusing to replace {assets}" in err
    assert (assets / "keep.txt").read_text() == "a user's file" and no_runs(out)


def test_an_unwritable_output_folder_is_refused_before_the_search(tmp_path, capsys, trained, data_dir):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code = run_cli(main, ["--checkpoint", str(trained), "--out-dir", str(blocker / "artifacts"),
                          "--data-dir", str(data_dir), "--formats", "onnx", "--quantizations", "none"])
    out, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1 and "cannot write the export" in err and "a-file" in err
    assert "search " not in out  # found before the compression search's minutes, not after


def test_a_disk_too_small_is_refused_before_any_work(tmp_path, capsys, small_disk, trained, data_dir):
    disk = small_disk(1 << 20)
    code, err = export_cli(capsys, "--checkpoint", trained, "--out-dir", disk / "artifacts", "--data-dir", data_dir,
                           *ONE)
    assert code == 2 and err.count("\n") == 1 and "this export needs about" in err and "on another disk" in err
    assert [p.name for p in disk.iterdir()] == [".artifacts.stage.json.lock"]  # the stage's lock (empty) stays


def test_a_killed_runs_files_are_deleted_at_the_next_start(tmp_path, capsys, small_disk, trained, data_dir):
    """A run killed on a full disk leaves its folder; the next export must free it first, not fail for lack of space."""
    from tests.common.test_runs import killed_run
    disk = small_disk(16 << 20)
    out = disk / "artifacts"
    killed = killed_run(out, payload=bytes(15 << 20))
    code, err = export_cli(capsys, "--checkpoint", trained, "--out-dir", out, "--data-dir", data_dir, *ONE)
    assert code == 0, err
    assert not killed.exists() and (out / "mlp_onnx_fp32.onnx").is_file()


def test_a_disk_that_fills_during_a_torchscript_save_is_one_line(tmp_path, capsys, monkeypatch, small_disk, trained,
                                                                 data_dir):
    """torch's own file writer aborted the process here (exit 134) and left its temp file on the full
    disk; every format's save on a full disk: tests/export/test_formats.py."""
    from export import pipeline
    disk = small_disk(256 << 10)  # room for test_vectors.json, not for a 2.5 MB artifact
    monkeypatch.setattr(pipeline, "check_free_space", lambda *args: None)  # the disk fills after the check
    out = disk / "artifacts"
    code, err = export_cli(capsys, "--checkpoint", trained, "--out-dir", out, "--data-dir", data_dir,
                           "--formats", "torchscript", "--quantizations", "none", "--prunings", "none")
    assert code == 2 and err.count("\n") == 1 and "No space left on device" in err and "not published" in err
    assert not out.exists() and no_runs(out)
    assert [p.name for p in (disk / "artifacts-runs").iterdir()] == [".lock"]  # no temp file left on the disk


def test_sigterm_removes_the_unfinished_run_and_says_nothing_was_published(tmp_path, trained, data_dir):
    import signal
    import subprocess
    import sys
    import time
    from tests.conftest import ROOT
    out = tmp_path / "artifacts"
    proc = subprocess.Popen([sys.executable, "-m", "export", "--checkpoint", str(trained), "--out-dir", str(out),
                             "--data-dir", str(data_dir), "--search-steps", "20", "--formats", "onnx"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    runs_dir = tmp_path / "artifacts-runs"
    deadline = time.monotonic() + 180
    while not (runs_dir.is_dir() and any(p.is_dir() for p in runs_dir.iterdir())) and proc.poll() is None \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)  # during the compression search
    err = proc.communicate(timeout=120)[1].strip().splitlines()
    assert proc.returncode == 143, err
    assert err[-1].startswith("interrupted (SIGTERM): an unfinished run is never published")
    assert no_runs(out) and not out.exists()
