"""`make test` runs pytest on two pytest-xdist workers and relies on --dist loadgroup keeping each
group on one worker (tests/conftest.py WORKER_GROUPS): the full export built once, check.sh's
build folder used by one worker. A pytest or xdist version that drops the groups would still pass
every test, minutes slower or racing on that folder, so this runs a real two-worker session."""
from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT, START_FIRST, WORKER_GROUPS

TESTS = '''
import pytest

@pytest.mark.xdist_group("one")
@pytest.mark.parametrize("i", range(6))
def test_grouped(i):
    pass
'''


def test_a_group_runs_on_one_worker(tmp_path):
    (tmp_path / "test_grouped.py").write_text(TESTS)
    done = subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-v",
                           "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(tmp_path)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    # -v: one "[gwN] [ pp%] PASSED test_grouped.py::test_grouped[i]..." line per test
    ran = [line.split()[0] for line in done.stdout.splitlines() if " PASSED " in line]
    assert len(ran) == 6, done.stdout[-2000:]
    workers = set(ran)
    assert len(workers) == 1, f"one group ran on {sorted(workers)}: pytest-xdist's loadgroup ignored it"


def test_every_group_started_first_exists():
    """A renamed test file would silently drop out of the start order and run last."""
    missing = [g for g in START_FIRST if g not in WORKER_GROUPS and not (ROOT / g).is_file()]
    assert not missing, f"tests/conftest.py START_FIRST names no such group: {missing}"
