"""The ARM64 set-up's ready marker (native/arm64/setup.sh writes it, runtime/targets/arm64_setup.py
checks it): it must say what `make arm64` built, or the report names the wrong fix."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from runtime.__main__ import main
from runtime.targets import arm64
from tests.conftest import require

SETUP = Path(__file__).resolve().parents[3] / "native" / "arm64" / "setup.sh"


def fake_cache(cache: Path) -> Path:
    """A cache folder holding a file at every path a set-up builds (contents made up)."""
    from runtime.targets import arm64_setup
    for name in arm64_setup.BUILT:
        (cache / name).parent.mkdir(parents=True, exist_ok=True)
        (cache / name).write_bytes(f"built {name}".encode())
    return cache


def test_a_failed_make_arm64_leaves_no_ready_marker(tmp_path):
    """An earlier set-up's marker must not survive a failed one: the report would then run whatever
    half-built state is left and say "runner exited (code 1)" instead of "run make arm64"."""
    cache = tmp_path / "cache"
    (cache / "rootfs" / "lib").mkdir(parents=True)
    (cache / "rootfs" / "lib" / "ld-linux-aarch64.so.1").touch()  # the userland step counts as done
    (cache / "ready").write_text("{}")  # left by an earlier set-up
    done = subprocess.run(["bash", str(SETUP), "false", str(cache)], capture_output=True, text=True, timeout=300)
    assert done.returncode != 0  # `false` as the Python interpreter: the wheels step fails
    assert not (cache / "ready").exists()
    assert "run `make arm64`" in arm64.missing_setup(cache)


def test_a_marker_that_does_not_match_the_set_up_names_the_fix(tmp_path):
    from runtime.targets import arm64_setup
    require(shutil.which("qemu-aarch64") is not None, "qemu-aarch64 is not installed (make arm64 installs it)")
    cache = fake_cache(tmp_path / "cache")
    (cache / "ready").touch()  # an empty marker: what a set-up that recorded nothing left
    assert "run `make arm64`" in arm64.missing_setup(cache)
    arm64_setup.write(cache)
    assert arm64.missing_setup(cache) is None
    (cache / "bin" / "pte_runner").write_bytes(b"rebuilt by hand")
    problem = arm64.missing_setup(cache)
    assert "bin/pte_runner" in problem and "run `make arm64`" in problem
    arm64_setup.write(cache)
    marker = json.loads((cache / "ready").read_text())
    marker["versions"]["executorch"] = "0.0.1"  # set up for another executorch than this environment's
    (cache / "ready").write_text(json.dumps(marker))
    assert "executorch" in arm64.missing_setup(cache) and "0.0.1" in arm64.missing_setup(cache)


def test_a_changed_runner_source_asks_for_make_arm64(tmp_path):
    from runtime.targets import arm64_setup
    require(shutil.which("qemu-aarch64") is not None, "qemu-aarch64 is not installed (make arm64 installs it)")
    sources = tmp_path / "src"
    shutil.copytree(arm64_setup.SOURCES_DIR, sources)
    cache = fake_cache(tmp_path / "cache")
    arm64_setup.write(cache, sources)
    assert arm64_setup.problem(cache, sources) is None
    (sources / "pte_runner.cpp").write_text((sources / "pte_runner.cpp").read_text() + "\n// edited\n")
    assert "pte_runner.cpp" in arm64_setup.problem(cache, sources)


def test_qemu_missing_from_path_is_a_not_measured_target_not_a_traceback(small_export, trained, data_dir, tmp_path,
                                                                         monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    code = main(["--manifest", str(small_export), "--checkpoint", str(trained), "--data-dir", str(data_dir),
                 "--out-dir", str(tmp_path / "r"), "--quick", "--batches", "1", "--threads", "1",
                 "--targets", "arm64"])
    err = capsys.readouterr().err
    assert code == 1 and "target arm64 was asked for but measured no artifact" in err, err
    assert "qemu-aarch64" in err and "make arm64" in err
