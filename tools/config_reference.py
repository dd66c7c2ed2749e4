"""`python -m tools.config_reference [--write]`: the config reference of every stage (Markdown).

The README's "Config reference" section is this output; tests/test_readme.py keeps them equal.
`--write` replaces that section of README.md in place (written to a temp file and renamed).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from common.config import reference_table
from common.errors import run_cli
from common.files import atomic_write
from export.config import ExportConfig
from runtime.android import AndroidConfig
from runtime.config import RuntimeConfig
from train.config import TrainConfig

STAGES = ((TrainConfig, "train"), (ExportConfig, "export"), (RuntimeConfig, "runtime"),
          (AndroidConfig, "android"))
README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- config-reference:start -->\n", "<!-- config-reference:end -->"


def reference() -> str:
    return "\n\n".join(reference_table(cls, section) for cls, section in STAGES) + "\n"


def readme_section(text: str) -> str:
    return text[text.index(START) + len(START):text.index(END)]


def write_readme(path: Path = README) -> None:
    text = path.read_text()
    with atomic_write(path, "w") as f:
        f.write(text.replace(readme_section(text), reference(), 1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.config_reference", description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="replace README.md's config reference in place")
    if parser.parse_args(argv).write:
        write_readme()
    else:
        print(reference(), end="")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
