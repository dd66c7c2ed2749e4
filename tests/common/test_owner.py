"""common/owner.py: a folder is replaceable only when it is absent, empty, or wholly its owner's."""
from __future__ import annotations

import pytest

from common import owner
from common.errors import UserError


def owned(tmp_path, name="demo", who="export.embed"):
    folder = tmp_path / name
    folder.mkdir()
    (folder / "manifest.json").write_text("{}")
    (folder / "sub").mkdir()
    (folder / "sub" / "model.onnx").write_bytes(b"x")
    owner.mark(folder, who)
    return folder


def test_absent_empty_and_own_folders_may_be_replaced(tmp_path):
    assert owner.problem(tmp_path / "absent", "export.embed") is None
    (tmp_path / "empty").mkdir()
    assert owner.problem(tmp_path / "empty", "export.embed") is None
    assert owner.problem(owned(tmp_path), "export.embed") is None


def test_an_unmarked_folder_with_files_is_refused_in_one_line(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    for name in ("a.txt", "b.txt", "c.txt", "d.txt"):
        (folder / name).write_text(name)
    with pytest.raises(UserError) as e:
        owner.check_replaceable(folder, "export.embed", "choose another folder")
    message = str(e.value)
    assert "\n" not in message and str(folder) in message and "a.txt, b.txt, c.txt and 1 more" in message
    assert message.endswith("choose another folder")


def test_a_file_added_to_an_owned_folder_makes_it_foreign(tmp_path):
    folder = owned(tmp_path)
    (folder / "sub" / "notes.txt").write_text("mine")
    assert "sub/notes.txt that export.embed did not write" in owner.problem(folder, "export.embed")


def test_another_owners_folder_a_file_a_link_and_a_damaged_marker_are_refused(tmp_path):
    assert "belongs to artifacts-runs" in owner.problem(owned(tmp_path, who="artifacts-runs"), "export.embed")
    (tmp_path / "file").write_text("x")
    assert "a file" in owner.problem(tmp_path / "file", "export.embed")
    (tmp_path / "link").symlink_to(owned(tmp_path, "target"))
    assert "symbolic link" in owner.problem(tmp_path / "link", "export.embed")
    damaged = owned(tmp_path, "damaged")
    (damaged / owner.MARKER).write_text("{trunc")
    assert "no " + owner.MARKER in owner.problem(damaged, "export.embed")
