"""mobile_demo/android/check.sh on bad set-up: runs of one checkout take turns on build/, and a bad
EXECUTORCH_AAR is one line naming the variable, found before any work."""
from __future__ import annotations

import fcntl
import io
import os
import subprocess
import time
import zipfile

import pytest

from tests.mobile_demo.conftest import ANDROID

CHECK = ANDROID / "check.sh"
# On the worker that runs `check.sh test` (tests/conftest.py WORKER_GROUPS): a run of it on the other
# worker would hold build/'s lock, and these runs would wait and say so.
pytestmark = pytest.mark.xdist_group("jvm_run")


@pytest.mark.parametrize("content, says", [
    (None, "is not a file"),
    (b"not a zip", "is not an .aar or .jar (not a zip archive)"),
    ("AndroidManifest.xml", "has no classes.jar, so it is not an Android library (.aar)"),
])
def test_a_bad_executorch_aar_is_one_line_naming_the_variable(tmp_path, content, says):
    aar = tmp_path / "executorch.aar"
    if isinstance(content, str):  # a zip holding only that entry
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            z.writestr(content, "<manifest/>")
        content = buffer.getvalue()
    if content is not None:
        aar.write_bytes(content)
    done = subprocess.run(["bash", str(CHECK), "compile"], capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, EXECUTORCH_AAR=str(aar)), check=False)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: EXECUTORCH_AAR={aar} {says}"), done.stderr
    assert "unset it" in lines[0]


def test_a_second_run_waits_for_the_first(tmp_path):
    """While one run holds build/ (its lock), a second waits, then runs: two `make android-check` at
    once no longer delete each other's classes."""
    (ANDROID / "build").mkdir(exist_ok=True)
    bad = tmp_path / "bad.aar"
    bad.write_bytes(b"not a zip")  # the second run ends right after the lock, at its first check
    with open(ANDROID / "build" / ".check.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a first run, in the middle of its work
        second = subprocess.Popen(["bash", str(CHECK), "compile"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env=dict(os.environ, EXECUTORCH_AAR=str(bad)))
        time.sleep(2)
        assert second.poll() is None, "the second run did not wait for the first"
    out, err = second.communicate(timeout=600)
    assert err.startswith("waiting for another check.sh run"), err
    assert second.returncode == 2 and "EXECUTORCH_AAR=" in err.splitlines()[-1]
