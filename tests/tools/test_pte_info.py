"""tools.pte_info on the .pte files the Android app embeds by default: they stay within what the
app's executorch-android reads.

What executorch-android 1.4.0 (gradle/libs.versions.toml) reads, from its v1.4.0 sources:
schema/program.fbs declares file_identifier "ET12" and exir/version.py schema version 0; the
XNNPACK delegate (XnnpackBackend) is linked into the AAR; kernels/prim_ops registers
aten::sym_size.int and executorch_prim::et_view.default. If an exporter upgrade changes any of
these, this fails and README.md ("Versions") must be re-checked."""
from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from common.errors import UserError
from export.embed import DEFAULT_NAMES
from tests.conftest import ROOT
from tools.pte_info import describe

CATALOG = ROOT / "mobile_demo" / "android" / "gradle" / "libs.versions.toml"

RUNTIME_READS = {"file_identifier": "ET12", "schema_version": 0}
RUNTIME_BACKENDS = {"XnnpackBackend"}
RUNTIME_PRIM_OPS = {"aten::sym_size.int", "executorch_prim::et_view.default"}


def _embedded_ptes(manifest_path: Path) -> list[Path]:
    rows = json.loads(manifest_path.read_text())["artifacts"]
    return [manifest_path.parent / a["path"] for a in rows
            if a["name"] in DEFAULT_NAMES and a["status"] == "ok" and a["format"] == "executorch"]


def test_embedded_pte_files_fit_the_apps_executorch(few_artifacts):
    version = tomllib.loads(CATALOG.read_text())["versions"]["executorch"]
    assert version == "1.4.0", "the facts above are v1.4.0's: re-read them for the new version"
    ptes = _embedded_ptes(few_artifacts)
    assert ptes, "the default embed has no .pte"
    for pte in ptes:
        info = describe(pte)
        assert {k: info[k] for k in RUNTIME_READS} == RUNTIME_READS, info
        assert set(info["backends"]) <= RUNTIME_BACKENDS, info
        assert set(info["operators"]) <= RUNTIME_PRIM_OPS, f"{pte.name} calls operators outside the delegate: {info}"


def test_a_truncated_pte_is_one_clear_error(few_artifacts, tmp_path):
    pte = _embedded_ptes(few_artifacts)[0]
    cut = tmp_path / pte.name
    cut.write_bytes(pte.read_bytes()[:200])
    with pytest.raises(UserError, match="is not a readable .pte"):
        describe(cut)
