"""Training end to end on real MNIST: reproducibility, checkpoint round trip, resume, bad input."""
from __future__ import annotations

import json
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from common.errors import UserError, run_cli
from tests.conftest import fill
from train import checkpoint
from train.__main__ import main
from train.config import TrainConfig
from train.train import fit

ROOT = Path(__file__).resolve().parents[2]
# A smoke-sized run: 8k training images an epoch keeps each run to a few seconds.
SMALL = dict(epochs=2, train_samples=8000, hidden_size=128)


def test_checkpoint_round_trip_and_metrics(trained):
    model, ckpt = checkpoint.load_model(trained)
    assert ckpt["dataset"]["name"] == "mnist" and ckpt["dataset"]["mean"] == [0.5]
    assert ckpt["dataset"]["classes"] == [str(d) for d in range(10)]
    assert set(ckpt["dataset"]["files"]) >= {"t10k-images-idx3-ubyte", "train-images-idx3-ubyte"}
    metrics = json.loads((trained.parent / "mlp.metrics.json").read_text())
    assert 0.95 <= metrics["test_accuracy"] <= 1.0  # 3 epochs of the default model reach ~97%
    assert {"val_accuracy", "epochs", "seconds"} <= set(metrics)
    assert metrics == {k: v for k, v in ckpt["metrics"].items()}
    assert not (trained.parent / "mlp.resume.pt").exists()
    with torch.no_grad():
        assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


def test_same_seed_gives_the_same_model(data_dir, tmp_path):
    a = fit(TrainConfig(data_dir=data_dir, out_dir=tmp_path / "a", **SMALL))
    b = fit(TrainConfig(data_dir=data_dir, out_dir=tmp_path / "b", **SMALL))
    assert a["test_accuracy"] == b["test_accuracy"]
    sa = checkpoint.load(tmp_path / "a" / "mlp.pt")["state_dict"]
    sb = checkpoint.load(tmp_path / "b" / "mlp.pt")["state_dict"]
    assert all(torch.equal(sa[k], sb[k]) for k in sa)


def test_killed_run_resumes_from_last_epoch_and_matches_an_uninterrupted_run(data_dir, tmp_path):
    args = ["--epochs", "4", "--train-samples", "20000", "--hidden-size", "128", "--data-dir", str(data_dir)]
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "train", *args, "--out-dir", str(out)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not (out / "mlp.resume.pt").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)  # the harshest interruption: no handler runs
    proc.wait()
    assert (out / "mlp.resume.pt").exists() and not (out / "mlp.pt").exists()
    resumed = subprocess.run([sys.executable, "-m", "train", *args, "--out-dir", str(out)], cwd=ROOT,
                             capture_output=True, text=True, check=True)
    assert "resuming after epoch" in resumed.stdout
    straight = tmp_path / "straight"
    subprocess.run([sys.executable, "-m", "train", *args, "--out-dir", str(straight)], cwd=ROOT,
                   capture_output=True, check=True)
    a = checkpoint.load(out / "mlp.pt")
    b = checkpoint.load(straight / "mlp.pt")
    assert all(torch.equal(a["state_dict"][k], b["state_dict"][k]) for k in a["state_dict"])
    assert a["metrics"]["test_accuracy"] == b["metrics"]["test_accuracy"]


def _cli_error(args, capsys) -> str:
    assert run_cli(main, args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err
    return err


def test_unknown_config_key(tmp_path, capsys):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[train]\nepochz = 3\n")
    assert "unknown key(s) ['epochz']" in _cli_error(["--config", str(cfg)], capsys)


def test_unknown_dataset_and_sizes_out_of_bounds(capsys):
    assert "unknown dataset 'cifar'" in _cli_error(["--dataset", "cifar"], capsys)
    # 0 is each size's default (the model's own), so the bounds start at 0
    assert "hidden_size must be between 0 and 16384, got -1" in _cli_error(["--hidden-size", "-1"], capsys)
    assert "epochs must be between 0 and 1000, got -1" in _cli_error(["--epochs", "-1"], capsys)
    # Refused while parsing: 1e9 hidden units would end in the allocator's traceback, 1e30 in NaN weights.
    assert "hidden_size must be between 0 and 16384" in _cli_error(["--hidden-size", "1000000000"], capsys)
    assert "lr must be above 0 and at most 10.0, got 1e+30" in _cli_error(["--lr", "1e30"], capsys)


def test_unwritable_output_folder(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    err = _cli_error(["--out-dir", str(blocker / "ckpt")], capsys)
    assert "cannot write the checkpoint folder" in err and "choose another folder" in err


def test_truncated_and_foreign_checkpoints(trained, tmp_path):
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(trained.read_bytes()[:5000])
    with pytest.raises(UserError, match="truncated or not a PyTorch checkpoint"):
        checkpoint.load_model(truncated)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    with pytest.raises(UserError, match="foreign checkpoint"):
        checkpoint.load_model(foreign)
    with pytest.raises(UserError, match="not found"):
        checkpoint.load_model(tmp_path / "absent.pt")


def test_failed_write_leaves_no_half_written_checkpoint(tmp_path):
    target = tmp_path / "mlp.pt"
    with pytest.raises((pickle.PicklingError, AttributeError)):
        checkpoint.save({"bad": lambda: 0}, target)  # torch.save fails mid-write: lambdas don't pickle
    assert list(tmp_path.iterdir()) == []


def test_training_again_with_the_same_inputs_is_skipped_and_says_why(data_dir, tmp_path, capsys):
    args = ["--epochs", "1", "--train-samples", "2000", "--hidden-size", "32", "--data-dir", str(data_dir),
            "--out-dir", str(tmp_path)]
    assert run_cli(main, args) == 0
    assert capsys.readouterr().out.startswith("train: running: no record of an earlier run")
    weights = (tmp_path / "mlp.pt").read_bytes()
    assert run_cli(main, args) == 0
    out = capsys.readouterr().out
    assert out.startswith("train: skipped: its output was made from the same inputs (config, data, code, versions)")
    assert out.count("\n") == 1 and (tmp_path / "mlp.pt").read_bytes() == weights
    assert run_cli(main, args + ["--lr", "0.002"]) == 0
    assert "train: running: changed since the last run: config.lr: 0.001 -> 0.002" in capsys.readouterr().out
    assert run_cli(main, args + ["--lr", "0.002", "--force"]) == 0
    assert capsys.readouterr().out.startswith("train: running: --force given")


def test_a_non_finite_loss_stops_training_naming_the_learning_rate_and_saves_no_weights(data_dir, tmp_path,
                                                                                          monkeypatch):
    real = torch.nn.CrossEntropyLoss
    calls = []

    class NaNOnBatch40(real):  # 32 batches an epoch below: batch 8 of epoch 2
        def forward(self, logits, target):
            calls.append(1)
            loss = super().forward(logits, target)
            return loss * float("nan") if len(calls) == 40 else loss
    monkeypatch.setattr(torch.nn, "CrossEntropyLoss", NaNOnBatch40)
    out = tmp_path / "ckpt"
    with pytest.raises(UserError, match=r"training diverged in epoch 2 \(loss nan at batch 8\) at learning rate "
                                        r"0.001; no weights of this epoch are saved: lower --lr") as e:
        fit(TrainConfig(data_dir=data_dir, out_dir=out, epochs=2, train_samples=2048, hidden_size=32))
    assert "\n" not in str(e.value) and not (out / "mlp.pt").exists()
    saved = checkpoint.load_raw(out / "mlp.resume.pt", "resume file")
    assert saved["state"]["epoch"] == 1 and all(torch.isfinite(t).all() for t in saved["model"].values())


def test_a_disk_too_small_is_refused_before_the_first_epoch(data_dir, small_disk, capsys):
    disk = small_disk(1 << 20)
    err = _cli_error(["--data-dir", str(data_dir), "--out-dir", str(disk / "ckpt"), "--hidden-size", "800"], capsys)
    assert "training needs about" in err and "free space or choose a folder on another disk" in err
    assert sorted(p.name for p in (disk / "ckpt").iterdir()) == [".mlp.pt.stage.json.lock"]  # the stage's lock stays


def test_a_disk_that_fills_mid_run_is_one_line_and_the_run_resumes_from_its_last_saved_epoch(data_dir, small_disk):
    """The disk fills up between two epochs (another process writes): the epoch that cannot be saved
    is named, the resume file keeps the one before, nothing half-written stays, and after space is
    freed the same command resumes."""
    disk = small_disk(8 << 20)
    args = [sys.executable, "-m", "train", "--epochs", "3", "--train-samples", "4000", "--hidden-size", "128",
            "--data-dir", str(data_dir), "--out-dir", str(disk)]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (disk / "mlp.resume.pt").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGSTOP)  # hold it while the disk fills, so no epoch slips through
    filler = fill(disk)
    proc.send_signal(signal.SIGCONT)
    err = proc.communicate(timeout=120)[1].strip().splitlines()[-1]
    assert proc.returncode == 2, err
    assert err.startswith("error: the disk refused writing") and "No space left on device" in err
    saved = checkpoint.load_raw(disk / "mlp.resume.pt", "resume file")["state"]["epoch"]
    assert f"epoch {saved + 1} is not saved and the resume file keeps epoch {saved}" in err
    assert sorted(p.name for p in disk.iterdir()) == [".mlp.pt.stage.json.lock", "filler", "mlp.resume.pt"]  # no temp file
    filler.unlink()
    resumed = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=True)
    assert f"resuming after epoch {saved}" in resumed.stdout and (disk / "mlp.pt").is_file()


def test_ctrl_c_says_the_finished_epochs_are_saved(data_dir, tmp_path, sigint_reaches_children):
    out = tmp_path / "ckpt"
    proc = subprocess.Popen([sys.executable, "-m", "train", "--data-dir", str(data_dir), "--out-dir", str(out),
                             "--epochs", "50", "--train-samples", "8000", "--hidden-size", "128"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out / "mlp.resume.pt").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    err = proc.communicate(timeout=60)[1].strip().splitlines()[-1]
    assert proc.returncode == 130
    assert err == ("interrupted (SIGINT): every finished epoch is saved in the resume file; run the same command "
                   "again to resume")
