"""`python -m export` as a pipeline stage: skipped when its artifacts were made from the same inputs
and are untouched; rerun, saying why, when the budget changed or a file was edited; --force; and
the embed step, skipped the same way."""
from __future__ import annotations

import json

from common.errors import run_cli
from export.__main__ import main
from export.embed import embed_step


def _export(capsys, *argv) -> tuple[int, str]:
    code = run_cli(main, [str(a) for a in argv])
    return code, capsys.readouterr().out


def test_export_again_is_skipped_and_a_new_budget_or_an_edited_artifact_reruns_it(tmp_path, capsys, trained,
                                                                                   data_dir):
    out = tmp_path / "artifacts"
    one = ["--checkpoint", trained, "--out-dir", out, "--data-dir", data_dir, "--formats", "onnx",
           "--quantizations", "none", "--prunings", "none"]
    code, said = _export(capsys, *one)
    assert code == 0 and said.startswith("export: running: no record of an earlier run")
    first = out.resolve()
    code, said = _export(capsys, *one)
    assert code == 0 and said.startswith("export: skipped: its output was made from the same inputs (config, "
                                         "checkpoint, data, code, versions)")
    assert out.resolve() == first  # nothing published
    code, said = _export(capsys, *one, "--accuracy-budget-pp", "0.5")
    assert code == 0 and "changed since the last run: config.accuracy_budget_pp: 0.3 -> 0.5" in said
    onnx = out / json.loads((out / "manifest.json").read_text())["artifacts"][0]["path"]
    onnx.write_bytes(onnx.read_bytes() + b"\0")  # edited by hand
    code, said = _export(capsys, *one, "--accuracy-budget-pp", "0.5")
    assert code == 0 and f"its output {onnx} was changed (sha256 differs from the record)" in said
    code, said = _export(capsys, *one, "--accuracy-budget-pp", "0.5", "--keep-runs", "5")  # where, not what
    assert code == 0 and said.startswith("export: skipped")


def test_embed_again_is_skipped_until_a_demo_file_goes_missing(small_export, tmp_path, capsys):
    assets, web = tmp_path / "assets", tmp_path / "models"
    embed_step(small_export, force=False, assets_dir=assets, web_dir=web)
    assert capsys.readouterr().out.startswith("embed: running: no record of an earlier run")
    embed_step(small_export, force=False, assets_dir=assets, web_dir=web)
    assert capsys.readouterr().out.startswith("embed: skipped")
    (web / "manifest.json").unlink()
    embed_step(small_export, force=False, assets_dir=assets, web_dir=web)
    said = capsys.readouterr().out
    assert f"embed: running: its output {web / 'manifest.json'} was removed" in said
    assert (web / "manifest.json").is_file()
