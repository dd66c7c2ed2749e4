"""common/runs.py: killed runs are cleaned up, live ones never, and interleaved publishes keep the link valid."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from common import runs

ROOT = Path(__file__).resolve().parents[2]


def finished_run(link: Path, keep: int) -> Path:
    run = runs.start(link, "test")
    (run / "data.txt").write_text(run.name)
    runs.publish(link, run, keep)
    return run


def in_subprocess(code: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)


def test_a_killed_runs_folder_is_removed_by_the_next_publish_even_with_keep_1(tmp_path):
    link = tmp_path / "artifacts"
    writer = in_subprocess(f"""
        import os, time
        from pathlib import Path
        from common import runs
        run = runs.start(Path({str(link)!r}), "test")
        print(run, flush=True)
        time.sleep(60)
    """)
    killed = Path(writer.stdout.readline().strip())
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    assert (killed / runs.WRITING).exists()
    current = finished_run(link, keep=1)
    assert not killed.exists()
    assert sorted(p.name for p in runs.runs_dir(link).iterdir() if p.is_dir()) == [current.name]


def test_a_live_concurrent_run_is_never_deleted(tmp_path):
    link = tmp_path / "artifacts"
    writer = in_subprocess(f"""
        from pathlib import Path
        from common import runs
        run = runs.start(Path({str(link)!r}), "test")
        print(run, flush=True)
        import time; time.sleep(60)
    """)
    try:
        live = Path(writer.stdout.readline().strip())
        for _ in range(3):
            finished_run(link, keep=1)
        assert live.is_dir() and (live / runs.WRITING).exists()
    finally:
        writer.kill()
        writer.wait()


def test_keep_counts_finished_runs_and_0_keeps_all(tmp_path):
    link = tmp_path / "r"
    made = [finished_run(link, keep=0) for _ in range(3)]
    assert all(p.is_dir() for p in made)
    last = finished_run(link, keep=2)
    assert sorted(p for p in runs.runs_dir(link).iterdir() if p.is_dir()) == [made[-1], last]
    assert link.resolve() == last and (link / "data.txt").read_text() == last.name


def test_interleaved_publishes_never_leave_the_link_dangling(tmp_path):
    """Two processes publishing 25 runs each with keep 1: every publish must leave the link on a
    folder that exists (without the lock, one's cleanup deletes the run the other just published)."""
    link = tmp_path / "artifacts"
    code = f"""
        from pathlib import Path
        from common import runs
        link = Path({str(link)!r})
        bad = 0
        for i in range(25):
            run = runs.start(link, "test")
            (run / "data.txt").write_text("x")
            runs.publish(link, run, 1)
            bad += not (link / "data.txt").is_file()
        print(bad)
    """
    writers = [in_subprocess(code) for _ in range(2)]
    outputs = [w.communicate(timeout=120)[0].strip() for w in writers]
    assert [w.returncode for w in writers] == [0, 0]
    assert (link / "data.txt").is_file()
    assert [p.name for p in runs.runs_dir(link).iterdir() if p.is_dir()] == [link.resolve().name]
    assert outputs == ["0", "0"]


def test_disk_full_is_recognised_through_the_exception_chain():
    import errno
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as inner:
            raise RuntimeError("the exporter failed") from inner
    except RuntimeError as e:
        assert runs.disk_full(e)
    assert not runs.disk_full(OSError(errno.ENOENT, "gone")) and not runs.disk_full(ValueError())
