"""Session fixtures shared by every stage's tests: real MNIST on disk, one trained checkpoint
and one full export of it.

CI copies the official .gz files into data/MNIST/raw (see .ci/run); locally the same copy is
made from ../shared/data/mnist when it is there. With CI=true nothing may be skipped for a
missing tool or file: a missing prerequisite fails the test instead.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from export.config import ExportConfig
from export.pipeline import run as export_run
from train.config import TrainConfig
from train.train import fit

ROOT = Path(__file__).resolve().parents[1]
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"
IN_CI = os.environ.get("CI", "").lower() == "true"


class FakeTime:
    """A stand-in for the `time` module of the code under test: its clocks move only when that code
    sleeps or a fake runner `work`s, so a test of timing logic takes no real time and its figures
    are exact (monkeypatch.setattr(module, "time", FakeTime()))."""

    def __init__(self) -> None:
        self.ns = 0

    def work(self, seconds: float) -> None:
        self.ns += round(seconds * 1e9)

    sleep = work

    def perf_counter_ns(self) -> int:
        return self.ns

    def monotonic(self) -> float:
        return self.ns / 1e9


# Fixtures whose first use costs minutes (the full default export, the emulated ARM64 set-up, the
# browser, the JVM): a test that uses one is marked `slow`, and `pytest -m "not slow"` is a loop of a
# few minutes while editing.
SLOW_FIXTURES = {"exported", "ready", "web_tools", "jvm_run"}


@pytest.hookimpl(tryfirst=True)  # before `-m "not slow"` deselects by marker
def pytest_collection_modifyitems(items) -> None:
    for item in items:
        if SLOW_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.slow)


def require(condition: bool, why: str) -> None:
    """Skip locally when a tool is missing; in CI a missing tool is a failure."""
    if not condition:
        if IN_CI:
            pytest.fail(f"CI=true and {why}: .ci/run must install it")
        pytest.skip(why)


@pytest.fixture
def small_disk(tmp_path):
    """make(size_bytes) -> a folder on a tmpfs of its own of that size: a real disk that fills up,
    for the disk-full paths (ENOSPC from the kernel, not a mocked exception). Mounting needs root,
    as CI runs; each mount is lazily unmounted after the test."""
    mounts: list[Path] = []

    def make(size_bytes: int, name: str = "disk") -> Path:
        path = tmp_path / name
        path.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_bytes}", "tmpfs", str(path)],
                              capture_output=True, text=True, check=False)
        require(done.returncode == 0, f"cannot mount a tmpfs for the disk-full tests ({done.stderr.strip()})")
        mounts.append(path)
        return path
    yield make
    for path in mounts:
        subprocess.run(["umount", "--lazy", str(path)], check=False)


def fill(folder: Path) -> Path:
    """Write zeros into `folder` until its disk refuses: a full disk from here on."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(bytes(1 << 16))
        except OSError:
            pass
    return filler


@pytest.fixture(scope="session")
def data_dir() -> Path:
    root = Path(os.environ.get("DATA_DIR") or ROOT / "data").resolve()
    raw = root / "MNIST" / "raw"
    if not any(raw.glob("*.gz")) and SHARED_MNIST.is_dir():
        raw.mkdir(parents=True, exist_ok=True)
        for gz in SHARED_MNIST.glob("*.gz"):
            shutil.copy(gz, raw / gz.name)
    require(any(raw.glob("*")), f"no MNIST files in {raw}")
    return root


@pytest.fixture(scope="session")
def trained(tmp_path_factory, data_dir) -> Path:
    """A real MNIST model (3 epochs, ~97% test accuracy, ~15 s): what later stages export."""
    out = tmp_path_factory.mktemp("checkpoints")
    fit(TrainConfig(data_dir=data_dir, out_dir=out, epochs=3))
    return out / "mlp.pt"


@pytest.fixture(scope="session")
def exported(tmp_path_factory, trained, data_dir) -> Path:
    """manifest.json of a default export (every format x variant) of `trained`, as `python -m export`
    makes it: `<tmp>/artifacts` is the symlink to the run folder. ~2.5 min of CPU time (measured: 152 s
    on the shared 2-core machine; the compression search's 8 one-epoch fine-tunes, ~45 artifacts each
    judged on the 5k validation and verified on the 10k test images), once a session."""
    out = tmp_path_factory.mktemp("export") / "artifacts"
    export_run(ExportConfig(checkpoint=trained, out_dir=out, data_dir=data_dir), log=lambda line: None)
    return out / "manifest.json"


@pytest.fixture(scope="session")
def few_artifacts(request, tmp_path_factory, trained, data_dir) -> Path:
    """manifest.json holding the artifacts the runtime tests (tests/runtime/conftest.py SAMPLE) and the
    demos' default embed use. When a test of this session uses the full export (`exported`), that
    one, built once anyway; else every format at fp32, int8-dynamic and int8-static, unpruned, fixed
    recipes (13 artifacts, a fraction of the full export's CPU time)."""
    if any("exported" in item.fixturenames for item in request.session.items):
        return request.getfixturevalue("exported")
    out = tmp_path_factory.mktemp("few-artifacts") / "artifacts"
    cfg = ExportConfig(checkpoint=trained, out_dir=out, data_dir=data_dir, prunings=("none",), search="off")
    return export_run(cfg, log=lambda line: None)


@pytest.fixture(scope="session")
def small_export(tmp_path_factory, trained, data_dir) -> Path:
    """manifest.json of a one-artifact export (ONNX fp32) of `trained`, ~10 s: for tests of what
    reads an export (report, embed, fault handling) that need a real artifact, not every format."""
    out = tmp_path_factory.mktemp("small-export") / "artifacts"
    cfg = ExportConfig(checkpoint=trained, out_dir=out, data_dir=data_dir, formats=("onnx",),
                       quantizations=("none",), prunings=("none",))
    return export_run(cfg, log=lambda line: None)
