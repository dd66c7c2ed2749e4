"""`python -m train`: train the model named in pipeline.toml [train] (the MLP by default), flags overriding single fields."""
from __future__ import annotations

import argparse
import sys

from common.config import add_config_flags, config_from_args
from common.errors import run_cli
from train.config import TrainConfig
from train.train import fit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train", description=__doc__)
    add_config_flags(parser, TrainConfig)
    args = parser.parse_args(argv)
    cfg = config_from_args(TrainConfig, "train", args)
    metrics = fit(cfg)
    print(f"done: test_accuracy {metrics['test_accuracy']:.4f} (best epoch {metrics['best_epoch']}, "
          f"val {metrics['val_accuracy']:.4f}) in {metrics['seconds']:.0f} s -> {cfg.checkpoint_path}")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main, interrupted="every finished epoch is saved in the resume file; run the same command "
                                       "again to resume"))
