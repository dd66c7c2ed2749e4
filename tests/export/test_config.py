"""ExportConfig: defaults, validation and the [export] section of pipeline.toml."""
from __future__ import annotations

import pytest

from common.config import build_config, read_config_file
from common.errors import UserError
from export import formats
from export.config import ExportConfig


def test_defaults_build_every_registered_format():
    cfg = ExportConfig()
    assert cfg.formats == tuple(formats.FORMATS) and "executorch" in cfg.formats


def test_pipeline_toml_section_is_valid():
    cfg = build_config(ExportConfig, "export", read_config_file(None), {})
    assert set(cfg.formats) <= set(formats.FORMATS)


def test_unknown_key_in_file_is_an_error():
    with pytest.raises(UserError, match="unknown key"):
        build_config(ExportConfig, "export", {"export": {"formatz": ["onnx"]}}, {})


@pytest.mark.parametrize("kw", [{"sparsity": 1.5}, {"formats": ()}, {"calibration_samples": 0},
                                {"accuracy_budget_pp": -1.0}, {"search": "maybe"}, {"search_steps": 0},
                                {"search_margin_pp": 0.5}, {"search_max_builds": 0}])
def test_bad_values_are_rejected(kw):
    with pytest.raises(ValueError):
        ExportConfig(**kw)
