"""`python -m export.embed`'s command line (what it copies: tests/mobile_demo/test_embed.py)."""
from __future__ import annotations

from common.errors import run_cli
from export.embed import main


def cli(capsys, tmp_path, *argv) -> tuple[int, str]:
    code = run_cli(main, [*argv, "--assets-dir", str(tmp_path / "assets"), "--web-dir", str(tmp_path / "web")])
    return code, capsys.readouterr().err


def test_a_name_given_twice_is_one_line_and_exit_2(capsys, tmp_path):
    code, err = cli(capsys, tmp_path, "--names", "mlp_onnx_fp32,mlp_onnx_fp32")
    assert code == 2 and err.count("\n") == 1 and "['mlp_onnx_fp32'] more than once" in err
    assert not (tmp_path / "assets").exists()


def test_a_missing_manifest_is_one_line_and_exit_2(capsys, tmp_path):
    code, err = cli(capsys, tmp_path, "--manifest", str(tmp_path / "none.json"))
    assert code == 2 and err.count("\n") == 1 and "none.json" in err
    assert not (tmp_path / "assets").exists() and not (tmp_path / "web").exists()
