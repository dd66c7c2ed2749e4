"""`python -m train`: train the model named in pipeline.toml [train] (the MLP by default), flags overriding single fields.

Skipped, with one line saying why, when the checkpoint was made from the same settings, data,
code and library versions and is unchanged (common/stages.py); --force trains anyway.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any

from common import progress, stages
from common.config import add_config_flags, as_dict, config_from_args
from common.errors import run_cli
from common.files import ensure_writable_dir
from train import data
from train.config import TrainConfig
from train.train import fit, pick_device


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train", description=__doc__)
    add_config_flags(parser, TrainConfig)
    parser.add_argument("--force", action="store_true", help="train even when the checkpoint is up to date")
    args = parser.parse_args(argv)
    cfg = config_from_args(TrainConfig, "train", args)
    ensure_writable_dir(cfg.out_dir, "checkpoint")  # before anything is read or locked there
    with stages.running("train", cfg.checkpoint_path, lambda: stage_inputs(cfg), args.force) as stage:
        if stage is None:
            return 0
        with progress.native_logs_above_bars():
            metrics = fit(cfg)
        stage.done([cfg.checkpoint_path, cfg.metrics_path])
    print(f"done: test_accuracy {metrics['test_accuracy']:.4f} (best epoch {metrics['best_epoch']}, "
          f"val {metrics['val_accuracy']:.4f}) in {metrics['seconds']:.0f} s -> {cfg.checkpoint_path}")
    return 0


def stage_inputs(cfg: TrainConfig) -> dict[str, Any]:
    """What the checkpoint is a function of: every setting but where files go (the data's hashes
    stand for data_dir), the data, this code, the libraries."""
    spec = data.get_spec(cfg.dataset)
    settings = {k: v for k, v in as_dict(cfg).items() if k not in ("out_dir", "data_dir", "resume")}
    settings["device"] = pick_device(cfg.device).type  # auto: what it resolves to on this machine
    return {"config": settings, "data": data.stage_data(spec, cfg.data_dir),
            "code": stages.code("train", "common"), "versions": stages.versions("torch", "torchvision", "numpy")}


if __name__ == "__main__":
    sys.exit(run_cli(main, interrupted="every finished epoch is saved in the resume file; run the same command "
                                       "again to resume"))
