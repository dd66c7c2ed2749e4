"""The tools' command lines go through common/config.py: a bad value is one `error:` line and exit 2."""
from __future__ import annotations

import pytest

from common.errors import run_cli
from tools import bench, probe, runner_ab


def one_error_line(capsys, code: int) -> str:
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, (code, err)
    return err


@pytest.mark.parametrize("main, argv, message", [
    (bench.main, ["--reuse", "maybe"], "reuse must be true or false, got 'maybe'"),
    (probe.main, ["--rounds", "0"], "rounds must be between 1 and 1000, got 0"),
    (probe.main, ["--iterations", "1.5"], "iterations must be an integer, got '1.5'"),
    (runner_ab.main, ["--rounds", "5"], "rounds must be at least 6, got 5"),
])
def test_a_bad_value_is_one_line_and_exit_2(capsys, main, argv, message):
    err = one_error_line(capsys, run_cli(main, argv))  # refused while parsing: nothing is run or written
    assert message in err


def test_bench_reuse_without_an_earlier_run_says_what_to_run(capsys, tmp_path):
    err = one_error_line(capsys, run_cli(bench.main, ["--reuse", "--out-dir", str(tmp_path)]))
    assert "run without --reuse first" in err


def test_flags_map_onto_the_tool_configs():
    assert bench.BenchConfig(reuse=True).reuse and probe.ProbeConfig().iterations == 1000
    with pytest.raises(ValueError, match="rounds"):
        probe.ProbeConfig(rounds=-1)


def test_pte_info_on_a_missing_file_or_a_folder_is_one_line(capsys, tmp_path):
    from tools import pte_info
    err = one_error_line(capsys, run_cli(pte_info.main, [str(tmp_path / "absent.pte")]))
    assert "absent.pte not found" in err
    assert "is a folder; pass the .pte files in it" in one_error_line(capsys, run_cli(pte_info.main, [str(tmp_path)]))


def reuse_folder(tmp_path, bench_json: str, manifest: str = "{}"):
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "mlp.pt").write_bytes(b"")
    (tmp_path / "artifacts").mkdir()
    (tmp_path / "artifacts" / "manifest.json").write_text(manifest)
    (tmp_path / "bench.json").write_text(bench_json)


def test_bench_reuse_with_a_truncated_bench_json_is_one_line(capsys, tmp_path):
    reuse_folder(tmp_path, '{"models": {"mlp": {"stages": {"train": [0, 41.')
    err = one_error_line(capsys, run_cli(bench.main, ["--reuse", "--out-dir", str(tmp_path)]))
    assert "bench.json cannot be read as JSON" in err and "run without --reuse" in err


def test_bench_reuse_with_a_truncated_manifest_is_one_line_before_the_report_runs(capsys, tmp_path):
    reuse_folder(tmp_path, '{"models": {"mlp": {"stages": {"train": [0, 41.5], "export": [0, 90.0]}}}}',
                 manifest='{"schema_vers')
    err = one_error_line(capsys, run_cli(bench.main, ["--reuse", "--out-dir", str(tmp_path)]))
    assert "manifest.json is not valid JSON" in err
    assert not (tmp_path / "reports").exists()  # refused before `python -m runtime` ran
