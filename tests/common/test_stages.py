"""common/stages.py: a stage is skipped only when its record, its inputs and its output all agree,
and says why it runs otherwise; a failed or killed run is never recorded; two runs wait in turn."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from common import stages
from common.files import atomic_write_json

ROOT = Path(__file__).resolve().parents[2]
INPUTS = {"config": {"epochs": 3, "lr": 0.001}, "data": {"train.gz": "a" * 64}, "versions": {"torch": "2.14.1"}}


def finished(tmp_path: Path, inputs: dict = INPUTS) -> tuple[stages.Stage, Path]:
    """A stage that ran once and published out/model.bin and out/metrics.json."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "model.bin").write_bytes(b"weights")
    (out / "metrics.json").write_text("{}")
    stage = stages.Stage("train", stages.record_beside(out / "model.bin"), inputs)
    stage.done([out / "model.bin", out / "metrics.json"])
    return stage, out


def test_the_same_inputs_and_an_unchanged_output_skip_with_one_line_saying_why(tmp_path):
    stage, _ = finished(tmp_path)
    decision = stages.Stage("train", stage.record, json.loads(json.dumps(INPUTS))).check()
    assert decision.skip
    assert decision.line.startswith("train: skipped: its output was made from the same inputs (config, data, "
                                    "versions)") and "--force reruns" in decision.line and "\n" not in decision.line


def test_force_and_a_missing_record_run(tmp_path):
    stage, _ = finished(tmp_path)
    assert stage.check(force=True) == stages.Decision(False, "train: running: --force given")
    fresh = stages.Stage("train", tmp_path / "elsewhere" / ".x.stage.json", INPUTS).check()
    assert not fresh.skip and fresh.line.startswith("train: running: no record of an earlier run")


def test_a_changed_input_runs_and_names_what_changed(tmp_path):
    stage, _ = finished(tmp_path)
    changed = {**INPUTS, "config": {"epochs": 5, "lr": 0.001}, "versions": {"torch": "2.15.0"}}
    decision = stages.Stage("train", stage.record, changed).check()
    assert not decision.skip
    assert decision.line == ("train: running: changed since the last run: config.epochs: 3 -> 5; "
                             "versions.torch: \"2.14.1\" -> \"2.15.0\"")


def test_an_output_edited_by_hand_or_removed_runs_and_says_so(tmp_path):
    stage, out = finished(tmp_path)
    (out / "metrics.json").write_text('{"test_accuracy": 1.0}')
    edited = stage.check()
    assert not edited.skip and f"its output {out / 'metrics.json'} was changed" in edited.line
    (out / "metrics.json").write_text("{}")
    assert stage.check().skip  # the recorded content again
    (out / "model.bin").unlink()
    removed = stage.check()
    assert not removed.skip and f"its output {out / 'model.bin'} was removed" in removed.line


@pytest.mark.parametrize("content", [b"", b"{not json", b"\xff\xfe", b"[]", b'{"schema": "stage-record/1"}',
                                     b'{"schema": "other/1", "inputs": {}, "outputs": {}, "finished_utc": ""}'])
def test_a_record_that_cannot_be_read_is_not_trusted(tmp_path, content):
    stage, _ = finished(tmp_path)
    stage.record.write_bytes(content)
    decision = stage.check()
    assert not decision.skip
    assert decision.line.startswith(f"train: running: its record {stage.record} cannot be read (")
    assert decision.line.endswith("); not trusting it")


def test_a_record_edited_to_match_other_inputs_still_checks_the_output(tmp_path):
    """Only the output's recorded sha256 vouches for it: a record copied from elsewhere does not."""
    stage, out = finished(tmp_path)
    record = json.loads(stage.record.read_text())
    record["outputs"] = {name: "0" * 64 for name in record["outputs"]}
    atomic_write_json(stage.record, record)
    assert not stage.check().skip


def test_a_failed_run_leaves_no_record_of_itself(tmp_path):
    """The record is written after the output is published, by the run that succeeded: a run that
    raised (or was killed) before that leaves the previous record, which no longer matches the
    output it half replaced, or no record at all."""
    stage, out = finished(tmp_path)
    changed = stages.Stage("train", stage.record, {**INPUTS, "config": {"epochs": 4, "lr": 0.001}})
    with pytest.raises(RuntimeError):
        with stages.exclusive(changed.record, "train"):
            assert not changed.check().skip
            (out / "model.bin").write_bytes(b"half of new weights")
            raise RuntimeError("killed")
    assert not changed.check().skip  # inputs differ from the record
    assert not stage.check().skip  # and the old inputs' output is gone


WAITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from common import stages
    with stages.exclusive(Path(sys.argv[1]), "export"):
        Path(sys.argv[2]).write_text(str(time.time()))
""")


def test_a_second_run_of_a_stage_waits_for_the_first_and_says_so(tmp_path):
    record = tmp_path / ".artifacts.stage.json"
    with stages.exclusive(record, "export"):
        second = subprocess.Popen([sys.executable, "-c", WAITER, str(record), str(tmp_path / "second")],
                                  cwd=ROOT, stderr=subprocess.PIPE, text=True)
        line = second.stderr.readline()  # said before it blocks (or '' if it ended without a word)
        assert not (tmp_path / "second").exists()
        released = time.time()
    assert second.wait(timeout=60) == 0
    assert float((tmp_path / "second").read_text()) >= released
    assert line.startswith("export: waiting for another run of this stage in this folder (pid ")


def test_differences_name_every_changed_leaf():
    old = {"a": {"b": 1, "c": [1, 2]}, "d": "x" * 64}
    new = {"a": {"b": 2, "c": [1, 2], "e": None}, "d": "y" * 64}
    assert stages.differences(old, new) == ["a.b: 1 -> 2", 'a.e: "(absent)" -> null',
                                            f"d: {'x' * 12}... -> {'y' * 12}..."]


def test_code_changes_with_any_file_of_the_package(tmp_path, monkeypatch):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "a.py").write_text("x = 1\n")
    monkeypatch.setattr(stages, "ROOT", tmp_path)
    before = stages.code("pkg")
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "a.pyc").write_bytes(b"compiled")  # not code: written by imports
    assert stages.code("pkg") == before
    (package / "a.py").write_text("x = 2\n")
    assert stages.code("pkg") != before
