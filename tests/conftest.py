"""Session fixtures shared by every stage's tests: real MNIST on disk, one trained checkpoint
and one full export of it.

CI copies the official .gz files into data/MNIST/raw (see .ci/run); locally the same copy is
made from ../shared/data/mnist when it is there. With CI=true nothing may be skipped for a
missing tool or file: a missing prerequisite fails the test instead.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Callable

import pytest
from filelock import FileLock

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

# `make test` runs two pytest-xdist workers (`-n 2 --dist loadgroup`), and each worker makes its
# own session and module fixtures. Every test goes to a group, and a group runs on one worker:
# by default its file (module fixtures made once); the tests of a session fixture that is more
# than a path to share (built_once) or that holds a folder of the repository (check.sh's Android
# build) form one group each.
WORKER_GROUPS = ("exported", "quick_report", "jvm_run")
# The groups that take tens of seconds start first, longest first, the rest after them in collection
# order (longest-processing-time-first: a run that ends with one worker on a long group leaves the
# other core idle; each group's share from `pytest --durations`). The full export takes the longest;
# tests/runtime/test_android.py needs no trained model, so the other worker runs it while the first
# trains the one checkpoint every other group uses. Under xdist few_artifacts builds its own small
# export rather than wait for the full one (see there).
START_FIRST = ("exported", "tests/runtime/test_android.py", "quick_report", "tests/runtime/test_run.py",
               "tests/export/test_models.py", "tests/train/test_train.py", "jvm_run")


def group_of(item) -> str:
    """A test file may name its group (pytestmark = pytest.mark.xdist_group(...)), else as above."""
    marked = item.get_closest_marker("xdist_group")
    if marked is not None:
        return marked.args[0]
    return next((f for f in WORKER_GROUPS if f in item.fixturenames), item.nodeid.split("::")[0])


@pytest.hookimpl(tryfirst=True)  # before `-m "not slow"` deselects by marker
def pytest_collection_modifyitems(items) -> None:
    for item in items:
        if SLOW_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.slow)
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(group_of(item)))
    first = {group: i for i, group in enumerate(START_FIRST)}
    items.sort(key=lambda item: first.get(group_of(item), len(first)))  # stable: otherwise collection order


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


@pytest.fixture
def sigint_reaches_children():
    """For tests that send SIGINT to a child: a test run started as a background job (`make test &`
    in a script) inherits SIGINT ignored, the child would too, and Python leaves an inherited ignore
    in place, as it should. A handler here is reset to the default in an exec'd child."""
    previous = signal.getsignal(signal.SIGINT)
    if previous == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def xdist_worker() -> bool:
    """Whether this process is a pytest-xdist worker (`make test`), not a plain pytest run."""
    return bool(os.environ.get("PYTEST_XDIST_WORKER"))


def built_once(tmp_path_factory, name: str, build: Callable[[Path], Path]) -> Path:
    """build(empty folder) -> a path, once per test run. `make test` runs pytest-xdist workers, each
    with its own session fixtures: the first worker to ask builds under the run's shared temp
    folder while the others wait on its lock, then all reuse it (pytest-xdist's documented pattern
    for session fixtures), so a minutes-long export is not made once per worker. A build that
    raised is not reused: the next worker to ask builds again, and fails alike."""
    if not xdist_worker():
        return build(tmp_path_factory.mktemp(name))
    shared = tmp_path_factory.getbasetemp().parent  # pytest-N/, above each worker's popen-gwK/
    folder, done = shared / name, shared / f"{name}.done"
    with FileLock(str(shared / f"{name}.lock")):
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)  # what a build that raised left behind
            folder.mkdir()
            done.write_text(str(build(folder)))
    return Path(done.read_text())


@pytest.fixture(scope="session")
def trained(tmp_path_factory, data_dir) -> Path:
    """A real MNIST model (3 epochs, ~97% test accuracy, ~15 s): what later stages export."""
    def build(out: Path) -> Path:
        fit(TrainConfig(data_dir=data_dir, out_dir=out, epochs=3))
        return out / "mlp.pt"
    return built_once(tmp_path_factory, "checkpoints", build)


@pytest.fixture(scope="session")
def exported(tmp_path_factory, trained, data_dir) -> Path:
    """manifest.json of a default export (every format x variant) of `trained`, as `python -m export`
    makes it: `<tmp>/artifacts` is the symlink to the run folder. ~2.5 min of CPU time (the
    compression search's 8 one-epoch fine-tunes, ~45 artifacts each judged on the 5k validation and
    verified on the 10k test images), once a test run."""
    def build(folder: Path) -> Path:
        export_run(ExportConfig(checkpoint=trained, out_dir=folder / "artifacts", data_dir=data_dir),
                   log=lambda line: None)
        return folder / "artifacts" / "manifest.json"
    return built_once(tmp_path_factory, "export", build)


@pytest.fixture(scope="session")
def few_artifacts(request, tmp_path_factory, trained, data_dir) -> Path:
    """manifest.json holding the artifacts the runtime tests (tests/runtime/conftest.py SAMPLE) and the
    demos' default embed use. When a test of this serial run uses the full export (`exported`),
    that one, built once anyway; else (and under xdist) every format at fp32, int8-dynamic and
    int8-static, unpruned, fixed recipes (13 artifacts, a fraction of the full export's CPU time)."""
    # Under xdist the full export is one worker's job of minutes: the other builds this one beside
    # it rather than wait.
    if not xdist_worker() and any("exported" in item.fixturenames for item in request.session.items):
        return request.getfixturevalue("exported")

    def build(folder: Path) -> Path:
        cfg = ExportConfig(checkpoint=trained, out_dir=folder / "artifacts", data_dir=data_dir,
                           prunings=("none",), search="off")
        return export_run(cfg, log=lambda line: None)
    return built_once(tmp_path_factory, "few-artifacts", build)


@pytest.fixture(scope="session")
def small_export(tmp_path_factory, trained, data_dir) -> Path:
    """manifest.json of a one-artifact export (ONNX fp32) of `trained`, ~10 s: for tests of what
    reads an export (report, embed, fault handling) that need a real artifact, not every format."""
    def build(folder: Path) -> Path:
        cfg = ExportConfig(checkpoint=trained, out_dir=folder / "artifacts", data_dir=data_dir,
                           formats=("onnx",), quantizations=("none",), prunings=("none",))
        return export_run(cfg, log=lambda line: None)
    return built_once(tmp_path_factory, "small-export", build)
