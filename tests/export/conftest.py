"""One real export run shared by every export test (and, once moved to tests/conftest.py, by the
runtime and mobile tests): every registered format x variant from the 3-epoch `trained` checkpoint.

Cost: ~100 s on the 2-core machine (measured 99 s as a pytest fixture at load ~2) (two 1-epoch pruning fine-tunes, ~45 artifacts each
verified on the full 10k test set); it runs once per session.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from export.config import ExportConfig
from export.pipeline import run


@pytest.fixture(scope="session")
def exported(tmp_path_factory, trained, data_dir) -> Path:
    """Path to manifest.json of a default export (all formats and variants) of `trained`.

    Its folder `<tmp>/artifacts` is the symlink to the run folder, as `python -m export` makes it."""
    out = tmp_path_factory.mktemp("export") / "artifacts"
    run(ExportConfig(checkpoint=trained, out_dir=out, data_dir=data_dir), log=lambda line: None)
    return out / "manifest.json"
