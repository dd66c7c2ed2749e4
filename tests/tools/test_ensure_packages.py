"""tools/ensure_packages.sh: what `make pipeline` and `make test` run before anything else."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.conftest import require

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "ensure_packages.sh"


def run(*specs: str, as_nobody: bool = False) -> subprocess.CompletedProcess:
    # The script goes in on stdin (`bash -s`): nobody may not be able to enter the checkout's folder
    # (a clone under `mktemp -d` is root's, mode 0700), and the script never reads its own path.
    cmd = ["bash", "-s", "--", *specs]
    if as_nobody:  # a user who is neither root nor allowed sudo
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
    return subprocess.run(cmd, input=SCRIPT.read_text(), capture_output=True, text=True, timeout=60, cwd="/")


def test_present_tools_and_paths_install_nothing():
    done = run("coreutils", "bash=bash", f"python3={shutil.which('python3')}")
    assert done.returncode == 0 and done.stdout == done.stderr == ""


def test_without_root_a_missing_package_is_one_line_with_the_exact_command():
    require(os.geteuid() == 0 and shutil.which("setpriv") is not None, "the test needs root and setpriv to become nobody")
    done = run("bash=bash", "no-such-tool-pkg=/nonexistent/tool", "coreutils", as_nobody=True)
    assert done.returncode == 1, done
    lines = done.stderr.strip().splitlines()
    assert lines == ["error: missing Debian packages: no-such-tool-pkg; run: "
                     "sudo apt-get install -y --no-install-recommends no-such-tool-pkg"], done.stderr
