"""`python -m tools.config_reference`: print the config reference of every stage (Markdown).

The README's "Config reference" section is this output; tests/test_readme.py keeps
them equal.
"""
from __future__ import annotations

from common.config import reference_table
from export.config import ExportConfig
from runtime.config import RuntimeConfig
from train.train import TrainConfig

STAGES = ((TrainConfig, "train"), (ExportConfig, "export"), (RuntimeConfig, "runtime"))


def reference() -> str:
    return "\n\n".join(reference_table(cls, section) for cls, section in STAGES) + "\n"


if __name__ == "__main__":
    print(reference(), end="")
