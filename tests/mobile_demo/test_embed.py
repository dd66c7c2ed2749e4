"""export/embed.py: the chosen artifacts, a trimmed manifest and the test vectors, checked and swapped in whole."""
from __future__ import annotations

import json
import shutil

import pytest

from common import owner
from common.errors import UserError
from common.files import sha256_file
from export.embed import DEFAULT_NAMES, OWNER, embed


def test_default_embed_lists_only_what_it_copied(embedded):
    source = json.loads(embedded.source.read_text())
    ok = {a["name"] for a in source["artifacts"] if a["status"] == "ok"}
    assert embedded.names == [n for n in DEFAULT_NAMES if n in ok]
    for folder, formats in ((embedded.assets, {"onnx", "executorch"}), (embedded.models, {"onnx"})):
        manifest = json.loads((folder / "manifest.json").read_text())
        names = [a["name"] for a in manifest["artifacts"]]
        assert names == [n for n in embedded.names if n.split("_")[1].split("-")[0] in formats]
        assert sorted(p.name for p in folder.iterdir()) == sorted(
            ["manifest.json", "test_vectors.json", owner.MARKER] + [a["path"] for a in manifest["artifacts"]])
        assert owner.problem(folder, OWNER) is None  # the next embed may replace it
        for a in manifest["artifacts"]:
            assert sha256_file(folder / a["path"]) == a["sha256"]
        assert sha256_file(folder / "test_vectors.json") == manifest["test_vectors"]["sha256"]
        assert manifest["input"] == source["input"]


def _copy_export(manifest_path, tmp_path):
    """manifest.json, test_vectors.json and the ONNX fp32 file in a folder the test may damage."""
    src = tmp_path / "export"
    src.mkdir()
    for name in ("manifest.json", "test_vectors.json", "mlp_onnx_fp32.onnx"):
        shutil.copyfile(manifest_path.parent / name, src / name)
    return src / "manifest.json"


def test_unknown_name_lists_the_valid_ones(embedded, tmp_path):
    with pytest.raises(UserError, match="unknown artifact.*valid names in the manifest.*mlp_onnx_fp32"):
        embed(embedded.source, tmp_path / "a", ("mlp_onnx_fp33",), tmp_path / "w")
    assert not (tmp_path / "a").exists()


def test_sha256_mismatch_is_refused_and_the_old_assets_stay(embedded, tmp_path):
    manifest_path = _copy_export(embedded.source, tmp_path)
    assets = tmp_path / "assets"
    embed(manifest_path, assets, ("mlp_onnx_fp32",), None)
    before = {p.name: sha256_file(p) for p in assets.iterdir()}
    onnx = manifest_path.parent / "mlp_onnx_fp32.onnx"
    data = bytearray(onnx.read_bytes())
    data[-1] ^= 0xFF  # one flipped bit in the weights
    onnx.write_bytes(bytes(data))
    with pytest.raises(UserError, match="sha256 mismatch"):
        embed(manifest_path, assets, ("mlp_onnx_fp32",), None)
    assert {p.name: sha256_file(p) for p in assets.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [], "temp folder left behind"


def test_paths_leaving_the_manifest_folder_are_refused(embedded, tmp_path):
    manifest_path = _copy_export(embedded.source, tmp_path)
    manifest = json.loads(manifest_path.read_text())
    for a in manifest["artifacts"]:
        if a["name"] == "mlp_onnx_fp32":
            a["path"] = "../../etc/passwd"
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(UserError, match="(leaves|relative path inside) the manifest.s folder"):
        embed(manifest_path, tmp_path / "assets", ("mlp_onnx_fp32",), None)


def test_explicit_request_for_a_failed_artifact_is_refused(embedded, tmp_path):
    manifest_path = _copy_export(embedded.source, tmp_path)
    manifest = json.loads(manifest_path.read_text())
    for a in manifest["artifacts"]:
        if a["name"] == "mlp_onnx_fp32":
            a.update(status="failed", reason="parity 1e-2 above tolerance", path=None, sha256=None)
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(UserError, match="has status failed"):
        embed(manifest_path, tmp_path / "assets", ("mlp_onnx_fp32",), None)


def _state(*folders):
    return {str(f): sorted((p.name, sha256_file(p)) for p in f.iterdir()) if f.exists() else None for f in folders}


def test_a_full_disk_in_the_web_step_changes_neither_demo(small_export, tmp_path, monkeypatch):
    import errno
    from export import embed as embed_module
    assets, web = tmp_path / "assets", tmp_path / "web"
    embed(small_export, assets, ("mlp_onnx_fp32",), web)
    with open(assets / "manifest.json", "a") as f:
        f.write(" ")  # marks the old content; the names are still the ones embed wrote
    before = _state(assets, web)
    real_copy = shutil.copyfile

    def copy(src, dst):
        if str(dst).startswith(str(tmp_path / ".web")):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_copy(src, dst)
    monkeypatch.setattr(embed_module.shutil, "copyfile", copy)
    with pytest.raises(UserError, match="cannot write the demo folder .*web.*No space left on device.*neither demo"):
        embed(small_export, assets, ("mlp_onnx_fp32",), web)
    assert _state(assets, web) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [], "temp folder left behind"


def test_a_failed_second_swap_undoes_the_first(small_export, tmp_path, monkeypatch):
    import errno
    import pathlib
    assets, web = tmp_path / "assets", tmp_path / "web"  # first embed: no old folders to go back to
    real_rename = pathlib.Path.rename

    def rename(self, target):
        if pathlib.Path(target) == web:
            raise OSError(errno.EROFS, "Read-only file system")
        return real_rename(self, target)
    monkeypatch.setattr(pathlib.Path, "rename", rename)
    with pytest.raises(UserError, match="Read-only file system") as e:
        embed(small_export, assets, ("mlp_onnx_fp32",), web)
    assert "\n" not in str(e.value)
    assert not assets.exists() and not web.exists()


def test_an_unwritable_target_is_one_line(small_export, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(UserError, match="cannot write the demo folder") as e:
        embed(small_export, blocker / "assets", ("mlp_onnx_fp32",), tmp_path / "web")
    assert "\n" not in str(e.value) and not (tmp_path / "web").exists()
