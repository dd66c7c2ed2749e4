"""Artifacts for the runtime tests: one artifact of each kind (SAMPLE), so they stay quick, from
tests/conftest.py `few_artifacts` (the full export only when the session builds it anyway).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from runtime.__main__ import main

# One artifact per runtime kind, plus an int8 sibling for the int8-vs-fp32 flag.
SAMPLE = ("mlp_torchscript_fp32", "mlp_torchscript-lite_fp32", "mlp_onnx_fp32", "mlp_onnx_int8-dynamic",
          "mlp_executorch-xnnpack_fp32", "mlp_executorch-portable_fp32")


@pytest.fixture(scope="session")
def manifest_path(few_artifacts) -> Path:
    return few_artifacts


def _quick_args(manifest, checkpoint, data_dir, out, *extra) -> list[str]:
    """`python -m runtime` flags for a quick run of SAMPLE at batches 1 and 32, one thread, with the floors."""
    return ["--manifest", str(manifest), "--checkpoint", str(checkpoint), "--data-dir", str(data_dir),
            "--out-dir", str(out), "--device-results-dir", str(out / "device_results"), "--quick",
            "--batches", "1,32", "--threads", "1", "--floors", "true", "--artifacts", ",".join(SAMPLE), *extra]


@pytest.fixture(scope="session")
def quick_report(manifest_path, trained, data_dir, tmp_path_factory):
    """(exit code, output folder, report dict) of one quick run, shared by the report and HTML tests."""
    out = tmp_path_factory.mktemp("report")
    code = main(_quick_args(manifest_path, trained, data_dir, out))
    return code, out, json.loads((out / "latency_report.json").read_text())


@pytest.fixture(scope="session")
def quick_args():
    """The flags builder: quick_args(manifest, checkpoint, data_dir, out, *extra) -> argv."""
    return _quick_args


@pytest.fixture(scope="session")
def sample() -> tuple[str, ...]:
    return SAMPLE
