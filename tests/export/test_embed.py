"""`python -m export.embed`'s command line (what it copies: tests/mobile_demo/test_embed.py), and the
demo folders it may replace: only its own, one per demo."""
from __future__ import annotations

from common import owner
from common.errors import run_cli
from export.embed import main


def cli(capsys, tmp_path, *argv) -> tuple[int, str]:
    code = run_cli(main, [*map(str, argv), "--assets-dir", str(tmp_path / "assets"), "--web-dir", str(tmp_path / "web")])
    return code, capsys.readouterr().err


def test_a_name_given_twice_is_one_line_and_exit_2(capsys, tmp_path):
    code, err = cli(capsys, tmp_path, "--names", "mlp_onnx_fp32,mlp_onnx_fp32")
    assert code == 2 and err.count("\n") == 1 and "['mlp_onnx_fp32'] more than once" in err
    assert not (tmp_path / "assets").exists()


def test_a_missing_manifest_is_one_line_and_exit_2(capsys, tmp_path):
    code, err = cli(capsys, tmp_path, "--manifest", str(tmp_path / "none.json"))
    assert code == 2 and err.count("\n") == 1 and "none.json" in err
    assert not (tmp_path / "assets").exists() and not (tmp_path / "web").exists()


def test_a_folder_holding_other_files_is_refused_and_kept(capsys, small_export, tmp_path):
    assets = tmp_path / "assets"
    assets.mkdir()
    (assets / "my-notes.txt").write_text("not the demo's")
    code, err = cli(capsys, tmp_path, "--manifest", small_export)
    assert code == 2 and err.count("\n") == 1
    assert f"refusing to replace {assets}: it holds my-notes.txt and no {owner.MARKER}" in err
    assert (assets / "my-notes.txt").read_text() == "not the demo's" and not (tmp_path / "web").exists()


def test_one_folder_for_both_demos_is_refused(capsys, small_export, tmp_path):
    both = tmp_path / "both"
    code = run_cli(main, ["--manifest", str(small_export), "--assets-dir", str(both), "--web-dir", str(both)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "overlap; give each demo a folder of its own" in err
    assert not both.exists()


def test_embed_replaces_its_own_folders_and_refuses_once_a_file_is_added(capsys, small_export, tmp_path):
    assert cli(capsys, tmp_path, "--manifest", small_export)[0] == 0
    assert cli(capsys, tmp_path, "--manifest", small_export)[0] == 0  # its own folders: replaced
    (tmp_path / "web" / "index.html").write_text("a page of mine")
    code, err = cli(capsys, tmp_path, "--manifest", small_export)
    assert code == 2 and "index.html that export.embed did not write" in err
    assert (tmp_path / "web" / "index.html").read_text() == "a page of mine"


def test_an_empty_name_list_is_refused_not_read_as_the_defaults(capsys, tmp_path):
    code, err = cli(capsys, tmp_path, "--names", ",")
    assert code == 2 and err.count("\n") == 1 and "names has an empty item in ','" in err
    assert not (tmp_path / "assets").exists()


def test_a_disk_too_small_for_the_set_is_refused_before_copying(capsys, small_export, small_disk):
    disk = small_disk(256 << 10)
    code = run_cli(main, ["--manifest", str(small_export), "--names", "mlp_onnx_fp32",
                          "--assets-dir", str(disk / "assets"), "--web-dir", str(disk / "web")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "embedding needs about" in err
    assert list(disk.iterdir()) == []
