"""common.children: a group's processes end when the group does, and no new one starts after."""
from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from common.children import Children, Ended


def test_run_is_subprocess_run_with_captured_text():
    script = "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"
    done = Children().run([sys.executable, "-c", script], timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (3, "out\n", "err\n")


def test_a_run_past_its_timeout_is_killed():
    start = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        Children().run(["sleep", "60"], timeout=0.5)
    assert time.monotonic() - start < 30


def test_end_kills_running_children_and_refuses_new_ones():
    children = Children()
    waiting = children.popen(["sleep", "60"])
    result = {}
    runner = threading.Thread(target=lambda: result.update(done=children.run(["sleep", "60"], timeout=120)))
    runner.start()
    time.sleep(0.5)  # both started
    children.end()
    runner.join(timeout=30)
    assert waiting.returncode == -9 and result["done"].returncode == -9
    with pytest.raises(Ended):
        children.popen(["true"])
