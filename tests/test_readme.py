"""The README's promises match the code: its config reference, its make targets."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tools.config_reference import readme_section, reference

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_config_reference_is_generated_from_the_dataclasses():
    assert readme_section(README) == reference(), "README config reference is stale: run `make config-reference`"


def test_every_make_target_in_the_readme_exists():
    listed = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    targets = set(re.findall(r"make (\w[\w-]*)", listed))
    assert {"pipeline", "test", "bench", "help"} <= targets
    for name in set(re.findall(r"`make ([\w-]+)`", README)):
        assert name in targets, f"README mentions `make {name}` but `make help` does not list it"
