"""export.isolated: each artifact's first load and call in a child process, so a runtime that
crashes on a file ends the child, not the stage that asked."""
from __future__ import annotations

import pytest
import torch

from export import executorch, isolated
from export.variant import Variant
from train.model import MLP


@pytest.fixture(scope="module")
def pte(tmp_path_factory):
    """A real .pte (an untrained MLP, portable: no delegate) and a copy whose file identifier is
    invalid UTF-8, on which ExecuTorch's loader aborts its process."""
    folder = tmp_path_factory.mktemp("isolated")
    good, bad = folder / "good.pte", folder / "bad.pte"
    torch.manual_seed(0)
    executorch.build(MLP(hidden_size=16).eval(), Variant("executorch", "portable"), None, good)
    data = good.read_bytes()
    bad.write_bytes(data[:4] + b"\xf8" * 4 + data[8:])
    return good, bad


def test_a_crash_is_named_and_the_next_file_gets_a_fresh_child(pte, tmp_path):
    good, bad = pte
    probe = isolated.Probe()
    try:
        assert probe.check("executorch", good) is None
        reason = probe.check("executorch", bad)
        assert "crashed" in reason and "killed by SIGABRT" in reason and "UnicodeDecodeError" in reason, reason
        assert probe.check("executorch", good) is None  # a new child after the crash
        garbage = tmp_path / "garbage.pte"
        garbage.write_bytes(b"not a program")
        assert probe.check("executorch", garbage) is None  # a Python exception: the caller's own load raises it
    finally:
        probe.close()
    assert probe.process is None


def test_with_a_sha256_a_file_is_asked_about_once(pte):
    good, bad = pte
    probe = isolated.Probe()
    try:
        first = probe.check("executorch", bad, sha256="ab" * 32)
        child = probe.process
        assert probe.check("executorch", bad, sha256="ab" * 32) == first and probe.process is child is None
    finally:
        probe.close()
