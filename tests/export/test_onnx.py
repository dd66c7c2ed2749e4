"""ONNX specifics: named input/output, dynamic batch, opset and metadata for runtimes that know nothing else."""
from __future__ import annotations

import json

import numpy as np
import onnx
import pytest

from export import manifest
from export import onnx as onnx_format
from export.config import ExportConfig
from export.pipeline import run as export_run


@pytest.mark.parametrize("name", ["mlp_onnx_fp32", "mlp_onnx_int8-dynamic", "mlp_onnx_int8-static_structured"])
def test_graph_contract(exported, name):
    m = manifest.read(exported)
    row = next(a for a in m["artifacts"] if a["name"] == name)
    path = manifest.resolve(exported, row)
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto)
    assert [i.name for i in proto.graph.input] == ["input"] and [o.name for o in proto.graph.output] == ["logits"]
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param  # symbolic = dynamic batch
    props = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(props["class_names"]) == m["dataset"]["classes"]
    assert json.loads(props["normalization"]) == m["input"]["normalization"]
    assert any(n.startswith("opset ") for n in row["notes"])
    runner = onnx_format.load(path, threads=1)
    for batch in (1, 7):
        assert runner.predict(np.zeros((batch, 1, 28, 28), np.float32)).shape == (batch, 10)


def test_static_int8_is_per_channel_qdq(exported):
    row = next(a for a in manifest.read(exported)["artifacts"] if a["name"] == "mlp_onnx_int8-static")
    proto = onnx.load(str(manifest.resolve(exported, row)))
    ops = {n.op_type for n in proto.graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    weights = {i.name: i for i in proto.graph.initializer}
    scales = [weights[n.input[1]] for n in proto.graph.node
              if n.op_type == "DequantizeLinear" and n.input[1] in weights and weights[n.input[1]].dims]
    assert any(s.dims[0] > 1 for s in scales), "expected per-channel (vector) weight scales"


def test_check_input_rejects_bad_arrays(exported):
    row = next(a for a in manifest.read(exported)["artifacts"] if a["name"] == "mlp_onnx_fp32")
    runner = onnx_format.load(manifest.resolve(exported, row))
    with pytest.raises(TypeError, match="float32"):
        runner.predict(np.zeros((1, 1, 28, 28), np.float64))
    with pytest.raises(ValueError, match="shape"):
        runner.predict(np.zeros((1, 784), np.float32))



def test_calibration_method_setting_builds_with_that_method(tmp_path, trained, data_dir):
    """`calibration_method` entropy and percentile each build the ONNX int8-static artifact with that
    ORT calibrator (minmax, the default, is built by the shared export), verified on the real test set."""
    built = {}
    for method in ("entropy", "percentile"):
        cfg = ExportConfig(checkpoint=trained, out_dir=tmp_path / method, data_dir=data_dir, formats=("onnx",),
                           quantizations=("int8-static",), prunings=("none",), search="off",
                           calibration_method=method)
        doc = manifest.read(export_run(cfg, log=lambda line: None))
        (row,) = [a for a in doc["artifacts"] if a["quantization"] == "int8-static"]
        assert row["status"] == "ok", row["reason"]  # within the accuracy budget on the 10k test images
        assert f"{method} calibration" in " ".join(row["notes"])
        assert doc["config"]["calibration_method"] == method
        built[method] = row["sha256"]
    assert built["entropy"] != built["percentile"], "both methods gave the same quantization scales"
