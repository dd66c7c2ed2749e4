"""tools/timing.py's goal checks on made-up timings, and its one edit of pipeline.toml."""
from __future__ import annotations

import shutil
import tomllib

from tests.conftest import ROOT
from tools import timing


def timed(wall: float, code: int = 0, **verdicts: str) -> timing.Timed:
    stages = {name: {"verdict": v, "why": "", "at_s": 1.0} for name, v in verdicts.items()}
    return timing.Timed("make pipeline", code, wall, wall / 2, [1.0, 1.0], [1.0, 1.0], stages)


def test_each_goal_passes_and_fails_on_its_own_figures():
    skipped = dict.fromkeys(timing.STAGES, "skipped")
    only_report = {**skipped, "report": "running"}
    runs = {"pipeline": timed(470), "again": timed(25, **skipped), "runtime": timed(200, **only_report),
            "test": timed(479)}
    assert all(c["ok"] for c in timing.checks_of(runs))
    slow = {"pipeline": timed(490), "again": timed(35, **{**skipped, "export": "running"}),
            "runtime": timed(200, **{**only_report, "train": "running"}), "test": timed(300, code=1)}
    assert not any(c["ok"] for c in timing.checks_of(slow))


def test_the_runtime_change_touches_only_the_runtime_section(tmp_path):
    shutil.copy(ROOT / "pipeline.toml", tmp_path / "pipeline.toml")
    before = tomllib.loads((tmp_path / "pipeline.toml").read_text())
    timing.change_only_runtime(tmp_path)
    after = tomllib.loads((tmp_path / "pipeline.toml").read_text())
    assert after["runtime"] == {**before["runtime"], "cv_warn": 0.45}
    assert {k: v for k, v in after.items() if k != "runtime"} == {k: v for k, v in before.items() if k != "runtime"}


def test_the_stage_lines_are_found_in_a_commands_output():
    assert timing.STAGE_LINE.match("export: skipped: its output was made from the same inputs").groups()[:2] == (
        "export", "skipped")
    assert timing.STAGE_LINE.match("report: reports/latency_report.json, ...") is None  # the report's last line
