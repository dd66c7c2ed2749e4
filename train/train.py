"""Training, read top to bottom: model -> data -> epochs (resumable) -> best epoch -> test once -> save."""
from __future__ import annotations

import contextlib
import json
import math
import time
from typing import Any

import torch
from torch import nn
from tqdm import tqdm

from common.config import as_dict
from common.errors import UserError, disk_full, one_line
from common.files import atomic_write_json, check_free_space, ensure_writable_dir
from common.numerics import adam, denormals_flushed
from train import checkpoint, data
from train.config import TrainConfig
from train.model_spec import ModelSpec, build, check_exportable


def pick_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("device 'cuda' was asked for but no CUDA device is visible; use --device cpu or auto")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


@torch.no_grad()
def evaluate(model: nn.Module, ds: torch.utils.data.TensorDataset, device: torch.device,
             batch_size: int = 1000) -> float:
    """Top-1 accuracy as a fraction in 0..1."""
    model.eval()
    correct = 0
    for x, y in data.batches(ds, batch_size):
        correct += (model(x.to(device)).argmax(1) == y.to(device)).sum().item()
    return correct / len(ds)


def train_one_epoch(model: nn.Module, loader, optimizer, loss_fn, device, desc: str) -> dict[str, float]:
    model.train()
    seen = correct = 0
    loss_sum = 0.0
    start = time.perf_counter()
    bar = tqdm(loader, desc=desc, unit="batch", leave=False, mininterval=0.5)
    for i, (x, y) in enumerate(bar, 1):
        x, y = x.to(device), y.to(device)
        logits = model(x)
        loss = loss_fn(logits, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        # .item() is a host sync on CUDA; once a batch is cheap next to the step itself.
        value = loss.item()
        if not math.isfinite(value):  # the weights are NaN or inf from here on: nothing to save
            raise FloatingPointError(f"loss {value} at batch {i}")
        loss_sum += value * len(y)
        correct += (logits.argmax(1) == y).sum().item()
        seen += len(y)
        bar.set_postfix(loss=f"{loss_sum / seen:.4f}", acc=f"{correct / seen:.4f}",
                        samples_s=f"{seen / (time.perf_counter() - start):.0f}", refresh=False)
    return {"loss": loss_sum / seen, "train_accuracy": correct / seen,
            "samples_per_s": seen / (time.perf_counter() - start)}


def fingerprint(cfg: TrainConfig, files: dict[str, str]) -> dict[str, Any]:
    """What a resume file must match to be continued: every setting that changes the result."""
    keep = {k: v for k, v in as_dict(cfg).items() if k not in ("device", "resume", "out_dir", "data_dir", "threads")}
    return {"config": keep, "files": files}


def fit(cfg: TrainConfig) -> dict[str, Any]:
    """Train per `cfg`, write <model>.pt and <model>.metrics.json, return the metrics."""
    ensure_writable_dir(cfg.out_dir, "checkpoint")
    torch.set_num_threads(cfg.threads)  # per process: this run only
    device = pick_device(cfg.device)
    spec = data.get_spec(cfg.dataset)
    # The model first: one that cannot be built or exported is refused before any data is read.
    arch = ModelSpec.for_training(cfg.model, cfg.args, len(spec.classes))
    epochs = cfg.run_epochs
    torch.manual_seed(cfg.seed)
    model = build(arch, "train")
    with torch.random.fork_rng():  # the check leaves the seeded stream to training
        check_exportable(model, arch, "train")
    train_full = data.to_tensors(data.load_split(spec, cfg.data_dir, train=True), spec)
    test_set = data.load_test_set(spec, cfg.data_dir)
    files = data.raw_file_hashes(spec, cfg.data_dir)
    train_set, val_set = data.split_train_val(train_full, cfg.val_size, cfg.seed)
    if cfg.train_samples:
        train_set = torch.utils.data.TensorDataset(*(t[:cfg.train_samples] for t in train_set.tensors))

    model = model.to(device)
    check_free_space(cfg.out_dir, disk_needed(model), "training")
    optimizer = adam(model.parameters(), cfg.lr)
    # Stepped once per epoch; T_max = epochs, so the last epoch trains at a small lr.
    scheduler = (torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
                 if cfg.lr_schedule == "cosine" else torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0))
    shuffle = torch.Generator().manual_seed(cfg.seed)
    state = {"epoch": 0, "best_val": -1.0, "best_epoch": 0, "best_state": None, "history": [], "seconds": 0.0}
    fp = fingerprint(cfg, files)
    if cfg.resume:
        state = _maybe_resume(cfg, fp, model, optimizer, scheduler, shuffle, state)

    loader = data.batches(train_set, cfg.batch_size, shuffle)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(state["epoch"] + 1, epochs + 1):
        start = time.perf_counter()
        try:
            with denormals_flushed():
                stats = train_one_epoch(model, loader, optimizer, loss_fn, device, f"epoch {epoch}/{epochs}")
        except FloatingPointError as e:
            raise UserError(f"training diverged in epoch {epoch} ({e}) at learning rate {cfg.lr:g}; no weights of "
                            f"this epoch are saved: lower --lr (the reference recipe's is 1e-3)") from None
        scheduler.step()
        val_acc = evaluate(model, val_set, device)
        state["seconds"] += time.perf_counter() - start
        state["history"].append({"epoch": epoch, **stats, "val_accuracy": val_acc})
        if val_acc > state["best_val"]:
            state.update(best_val=val_acc, best_epoch=epoch,
                         best_state={k: v.detach().cpu().clone() for k, v in model.state_dict().items()})
        state["epoch"] = epoch
        print(f"epoch {epoch:3d}  loss {stats['loss']:.4f}  train_acc {stats['train_accuracy']:.4f}  "
              f"val_acc {val_acc:.4f}  {stats['samples_per_s']:.0f} samples/s", flush=True)
        kept = f"the resume file keeps epoch {epoch - 1}" if epoch > 1 else "no epoch is saved"
        with _disk_full_is_one_line(cfg.resume_path, f"epoch {epoch} is not saved and {kept}"):
            _save_resume(cfg, fp, model, optimizer, scheduler, shuffle, state)

    model.load_state_dict(state["best_state"])
    test_acc = evaluate(model, test_set, device)  # the one and only look at the test set
    metrics = {"test_accuracy": test_acc, "val_accuracy": state["best_val"], "epochs": epochs,
               "best_epoch": state["best_epoch"], "seconds": round(state["seconds"], 2),
               "device": device.type, "history": state["history"]}
    ckpt = {"format": checkpoint.FORMAT, "state_dict": state["best_state"], "model": arch.record(),
            "train": {**as_dict(cfg), "epochs": epochs}, "metrics": metrics,
            "dataset": {"name": spec.name, "classes": list(spec.classes), "mean": [spec.mean], "std": [spec.std],
                        "input_shape": [1, 28, 28], "files": files}}
    with _disk_full_is_one_line(cfg.checkpoint_path, f"the resume file keeps all {epochs} epochs"):
        checkpoint.save(ckpt, cfg.checkpoint_path)
        atomic_write_json(cfg.metrics_path, metrics)
    cfg.resume_path.unlink(missing_ok=True)
    return metrics


def disk_needed(model: nn.Module) -> int:
    """Bytes training writes at most: the resume file (weights, Adam's two moments, the best epoch's
    copy: 4x the weights) twice while its new copy is renamed over the old, the checkpoint, 1 MiB
    for the metrics, history and file headers."""
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    return 9 * weights + 2**20


@contextlib.contextmanager
def _disk_full_is_one_line(path, kept: str):
    """A full disk while writing `path`: one line saying what is kept (atomic writes leave the old file whole)."""
    try:
        yield
    except Exception as e:
        if not disk_full(e):
            raise
        raise UserError(f"the disk refused writing {path} ({one_line(e)}); {kept}: free space and rerun the "
                        f"same command to resume") from None


def _save_resume(cfg, fp, model, optimizer, scheduler, shuffle, state) -> None:
    checkpoint.save({"fingerprint": json.dumps(fp, sort_keys=True), "model": model.state_dict(),
                     "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                     "shuffle": shuffle.get_state(),
                     "rng": torch.get_rng_state(), "state": state}, cfg.resume_path)


def _maybe_resume(cfg, fp, model, optimizer, scheduler, shuffle, state) -> dict[str, Any]:
    if not cfg.resume_path.exists():
        return state
    saved = checkpoint.load_raw(cfg.resume_path, "resume file")
    if saved.get("fingerprint") != json.dumps(fp, sort_keys=True):
        print(f"note: {cfg.resume_path} is from a different config or data; starting over", flush=True)
        return state
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    scheduler.load_state_dict(saved["scheduler"])  # plain numbers: LambdaLR leaves its lambda out
    shuffle.set_state(saved["shuffle"])
    torch.set_rng_state(saved["rng"])
    print(f"resuming after epoch {saved['state']['epoch']} from {cfg.resume_path}", flush=True)
    return saved["state"]
