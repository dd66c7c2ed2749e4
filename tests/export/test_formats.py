"""export/formats.py: every registered format's build on a disk that is full (a real tmpfs) raises
the disk's OSError, which the export turns into one line, and leaves no file behind.

The builds run in one child process: torch's own file writer aborted the whole process on a full
disk (exit 134), which must fail this test, not end the test session.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from export.formats import FORMATS
from tests.conftest import ROOT, fill

BUILD_ALL = textwrap.dedent("""
    import json, sys, torch
    from pathlib import Path
    from common.errors import disk_full
    from common.files import atomic_path
    from export import formats
    from export.variant import Variant
    from train.model import MLP, MLPConfig
    disk = Path(sys.argv[1])
    model = MLP.from_config(MLPConfig(784, 64, 10)).eval()
    for name, module in formats.FORMATS.items():
        variant = Variant(name, module.BACKENDS[0])
        try:
            with atomic_path(disk / (variant.name + module.EXTENSION)) as tmp:
                module.build(model, variant, torch.zeros(8, 1, 28, 28), tmp)
            result = "built"
        except Exception as e:
            result = "disk full" if disk_full(e) else f"{type(e).__name__}: {e}"
        left = sorted(p.name for p in disk.iterdir() if p.name != "filler")
        print(json.dumps({"format": name, "result": result, "left": left}), flush=True)
""")


@pytest.fixture(scope="module")
def builds_on_a_full_disk(tmp_path_factory) -> dict[str, dict]:
    disk = tmp_path_factory.mktemp("full") / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs", str(disk)], capture_output=True,
                             text=True, check=False)
    from tests.conftest import require
    require(mounted.returncode == 0, f"cannot mount a tmpfs for the disk-full tests ({mounted.stderr.strip()})")
    try:
        fill(disk)
        done = subprocess.run([sys.executable, "-c", BUILD_ALL, str(disk)], cwd=ROOT, capture_output=True,
                              text=True, timeout=600, check=False)
    finally:
        subprocess.run(["umount", "--lazy", str(disk)], check=False)
    results = {r["format"]: r for r in map(json.loads, done.stdout.splitlines())}
    return {name: results.get(name, {"result": f"no result: the process ended with {done.returncode} "
                                               f"({done.stderr.strip().splitlines()[:1]})"}) for name in FORMATS}


@pytest.mark.parametrize("name", list(FORMATS))
def test_a_build_on_a_full_disk_raises_the_disks_error_and_leaves_nothing(builds_on_a_full_disk, name):
    result = builds_on_a_full_disk[name]
    assert result["result"] == "disk full", result
    assert result["left"] == [], f"{name} left {result['left']} on the full disk"
