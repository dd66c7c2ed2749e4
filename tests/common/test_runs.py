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


def killed_run(link: Path, payload: bytes = b"x") -> Path:
    """A run folder whose writer died: `.writing` present, nobody holding its lock."""
    run = runs.runs_dir(link) / "20260101T000000.000000Z-dead00"
    run.mkdir(parents=True)
    (run / runs.WRITING).write_text("12345\n")
    (run / "half-written.pt").write_bytes(payload)
    return run


def test_a_killed_runs_folder_is_removed_when_the_next_run_starts(tmp_path):
    """A run killed on a full disk leaves the disk full: the next run must not wait for a publish to free it."""
    link = tmp_path / "artifacts"
    killed = killed_run(link)
    run = runs.start(link, "test")
    try:
        assert not killed.exists() and run.is_dir()
    finally:
        runs.abandon(run)


def test_a_folder_no_run_wrote_is_never_deleted_and_not_counted(tmp_path):
    link = tmp_path / "artifacts"
    first = finished_run(link, keep=1)
    users = runs.runs_dir(link) / "my-backup"
    users.mkdir()
    (users / "notes.txt").write_text("mine")
    (first / "added-by-hand.txt").write_text("mine too")  # an old run a user added a file to
    for _ in range(2):
        last = finished_run(link, keep=1)
    assert (users / "notes.txt").read_text() == "mine" and (first / "added-by-hand.txt").exists()
    assert sorted(p.name for p in runs.runs_dir(link).iterdir() if p.is_dir()) == sorted(
        [first.name, users.name, last.name])


def test_a_published_run_is_marked_as_the_runs_own(tmp_path):
    from common import owner
    run = finished_run(tmp_path / "artifacts", keep=1)
    assert owner.problem(run, runs.owner_of(tmp_path / "artifacts")) is None
    assert "belongs to artifacts-runs" in owner.problem(run, "export.embed")
