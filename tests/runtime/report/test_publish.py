"""runtime/report/publish.py: the three report files change together or not at all."""
from __future__ import annotations

import errno
import os

import pytest

from common.errors import UserError
from runtime.report import publish as publish_module
from runtime.report.publish import publish

NAMES = ("latency_report.json", "latency_report.md", "latency_report.html")


def texts(version: str) -> dict[str, str]:
    return {name: f"{version} {name}" for name in NAMES}


def read_all(out):
    return {name: (out / name).read_text() for name in NAMES}


def test_the_files_are_published_together_and_readable_by_their_usual_names(tmp_path):
    paths = publish(tmp_path, texts("v1"))
    assert [p.name for p in paths] == list(NAMES) and read_all(tmp_path) == texts("v1")
    publish(tmp_path, texts("v2"))
    assert read_all(tmp_path) == texts("v2")


@pytest.mark.parametrize("fault", [OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt()])
def test_a_full_disk_or_a_crash_mid_write_leaves_the_old_report_whole(tmp_path, monkeypatch, fault):
    publish(tmp_path, texts("v1"))
    real_fsync, calls = os.fsync, []

    def fsync(fd):  # the second file's write fails, as on a disk that just filled up
        calls.append(fd)
        if len(calls) == 2:
            raise fault
        return real_fsync(fd)
    monkeypatch.setattr(publish_module.os, "fsync", fsync)
    with pytest.raises(UserError if isinstance(fault, OSError) else KeyboardInterrupt) as e:
        publish(tmp_path, texts("v2"))
    if isinstance(fault, OSError):
        assert "No space left on device" in str(e.value) and "previous report is unchanged" in str(e.value)
    assert read_all(tmp_path) == texts("v1")
    runs = [p for p in (tmp_path / "latency_report-runs").iterdir() if p.is_dir()]
    assert len(runs) == 1, "the unfinished run folder was left behind"


def test_plain_files_of_an_older_layout_become_links(tmp_path):
    for name in NAMES:
        (tmp_path / name).write_text("old layout")
    publish(tmp_path, texts("v1"))
    assert read_all(tmp_path) == texts("v1") and all((tmp_path / n).is_symlink() for n in NAMES)


def test_only_the_two_newest_reports_are_kept(tmp_path):
    for i in range(4):
        publish(tmp_path, texts(f"v{i}"))
    assert len([p for p in (tmp_path / "latency_report-runs").iterdir() if p.is_dir()]) == 2
