"""ONNX `.onnx` through torch.onnx.export(dynamo=True), run with onnxruntime's CPU provider.

Graph: input "input" float32 [batch, 1, 28, 28] (batch dynamic), output "logits" [batch, C].
metadata_props carry class_names and normalization as JSON so a runtime needs nothing else.
int8-dynamic: onnxruntime.quantization.quantize_dynamic (int8 weights, activations quantized
per call: MatMulInteger for linear layers, ConvInteger for convs). int8-static: quantize_static
in QDQ format, per-channel int8 weights, activations calibrated on the *training* images passed
in `calib` with the chosen calibration method (QLinear kernels for Gemm/MatMul and Conv).
Both quantizers run on the shape-inferred model from quant_pre_process, as ORT recommends.
The search's other recipes use the same two calls: per-tensor or per-channel weights, the other
calibration methods, and `nodes_to_exclude` to leave the output layer in fp32 (mixed precision).
ORT has no quantization-aware training, so no QAT recipe is offered here.
"""
from __future__ import annotations

import json
import tempfile
import warnings
import weakref
from pathlib import Path
from typing import Callable

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_dynamic,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process
from torch import nn

from export.variant import BOUND_SHAPES, FLOAT32, INPUT_SHAPE, QuantRecipe, Runner, Unsupported, Variant, check_input

FORMAT = "onnx"
BACKENDS = ("cpu",)
EXTENSION = ".onnx"
CALIBRATION_METHODS = {"minmax": CalibrationMethod.MinMax, "entropy": CalibrationMethod.Entropy,
                       "percentile": CalibrationMethod.Percentile}
# fp32 ModelProto bytes per source model: the dynamo export (~1-2 s) runs once per model, not once
# per quantization. Weak keys: an entry goes when its model does.
_exported: "weakref.WeakKeyDictionary[nn.Module, tuple[str, bytes, int]]" = weakref.WeakKeyDictionary()
CALIBRATION_BATCH = 64  # images per calibration call; ORT keeps every batch's activations for entropy/percentile


def recipes(quantization: str, output_layer: str | None = None, calibration_method: str = "minmax",
            **build_options: object) -> tuple[QuantRecipe, ...]:
    """Plain recipe first (quantize_dynamic's default per-tensor weights; the configured static
    calibration), then what ORT offers when it misses, ordered by file size (mixed precision last,
    when the output layer is named)."""
    mixed = (output_layer,) if output_layer else ()
    if quantization == "int8-dynamic":
        plain = (QuantRecipe(per_channel=False, calibration="dynamic"), QuantRecipe(calibration="dynamic"))
        return plain + ((QuantRecipe(calibration="dynamic", fp32_layers=mixed),) if mixed else ())
    others = [m for m in CALIBRATION_METHODS if m != calibration_method]
    plain = (QuantRecipe(calibration=calibration_method), *(QuantRecipe(calibration=m) for m in others),
             QuantRecipe(per_channel=False, calibration=calibration_method))
    return plain + ((QuantRecipe(calibration=calibration_method, fp32_layers=mixed),) if mixed else ())


def build(model: nn.Module, variant: Variant, calib: torch.Tensor, out: Path, recipe: QuantRecipe | None = None,
          calibration_method: str = "minmax", metadata: dict[str, object] | None = None) -> list[str]:
    if variant.quantization != "none" and recipe is None:
        recipe = recipes(variant.quantization, calibration_method=calibration_method)[0]
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".onnx-build-") as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        opset = export_fp32(model, fp32, metadata or {})
        notes = [f"opset {opset}", "torch.onnx.export(dynamo=True), onnx.checker passed"]
        if variant.quantization == "none":
            fp32.replace(out)
            return notes
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(fp32), str(prepared))
        excluded = layer_nodes(prepared, recipe.fp32_layers)
        weights = "per-channel" if recipe.per_channel else "per-tensor"
        mixed = [f"mixed precision: {', '.join(recipe.fp32_layers)} left in fp32"] if excluded else []
        if variant.quantization == "int8-dynamic":
            quantize_dynamic(str(prepared), str(out), weight_type=QuantType.QInt8, per_channel=recipe.per_channel,
                             nodes_to_exclude=excluded)
            return notes + [f"onnxruntime quantize_dynamic, {weights} int8 weights"] + mixed
        reader = CalibrationReader(calib)
        quantize_static(str(prepared), str(out), reader, quant_format=QuantFormat.QDQ, per_channel=recipe.per_channel,
                        activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CALIBRATION_METHODS[recipe.calibration], nodes_to_exclude=excluded)
        return notes + [f"onnxruntime quantize_static QDQ, {weights} int8 weights, {recipe.calibration} "
                        f"calibration on {len(calib)} training images"] + mixed


WEIGHT_OPS = ("Gemm", "MatMul", "Conv")  # the ONNX ops of linear and conv layers


def layer_nodes(path: Path, layers: tuple[str, ...]) -> list[str]:
    """ONNX node names of the model's `layers` (module names): the dynamo exporter records each node's
    module path in its `namespace` metadata (e.g. ": train.model.MLP/fc2: ...Linear/linear_1: aten.linear.default")."""
    if not layers:
        return []
    names = {}
    for node in onnx.load(str(path)).graph.node:
        scope = next((p.value for p in node.metadata_props if p.key == "namespace"), "")
        for layer in layers:
            if f"/{layer}:" in scope and node.op_type in WEIGHT_OPS:
                names[layer] = node.name
    missing = [layer for layer in layers if layer not in names]
    if missing:
        raise RuntimeError(f"no {'/'.join(WEIGHT_OPS)} node with namespace /{missing[0]}: in {path.name}; "
                           f"cannot leave {missing} in fp32")
    return [names[layer] for layer in layers]


def export_fp32(model: nn.Module, out: Path, metadata: dict[str, object]) -> int:
    """Write the fp32 graph with metadata, check it, return its default-domain opset."""
    key = json.dumps(metadata, sort_keys=True)  # the pipeline never changes a source model's weights
    if _exported.get(model, (None,))[0] != key:
        _exported[model] = (key, *_export_fp32(model, metadata))
    _, proto_bytes, opset = _exported[model]
    out.write_bytes(proto_bytes)
    return opset


def _export_fp32(model: nn.Module, metadata: dict[str, object]) -> tuple[bytes, int]:
    example = torch.zeros(2, *INPUT_SHAPE)  # 2: torch.export specializes a batch of 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            program = torch.onnx.export(model, (example,), None, dynamo=True, verbose=False,
                                        input_names=["input"], output_names=["logits"],
                                        dynamic_shapes=({0: torch.export.Dim("batch")},))  # forward's first argument
        except torch.onnx.OnnxExporterError as e:  # torch.export took the model (checked first): an op ONNX lacks
            raise Unsupported(f"the ONNX exporter cannot translate this model: {exporter_reason(e)}") from None
    proto = program.model_proto
    for key, value in metadata.items():
        proto.metadata_props.add(key=key, value=json.dumps(value))
    onnx.checker.check_model(proto, full_check=True)
    return proto.SerializeToString(), next(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx"))


def exporter_reason(e: Exception) -> str:
    """The line of the exporter's report that names the operator (under "## Exception summary")."""
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    cause = next((line for line in lines if line.startswith("<class") and "No ONNX function" in line),
                 next((line for line in lines if line.startswith("<class")), lines[0] if lines else type(e).__name__))
    return cause.split(">: ", 1)[-1][:300]


class CalibrationReader(CalibrationDataReader):
    """Feeds the training images to ORT's calibrator in batches of CALIBRATION_BATCH."""

    def __init__(self, calib: torch.Tensor) -> None:
        images = calib.numpy().astype(np.float32)
        self.batches = iter([{"input": images[i:i + CALIBRATION_BATCH]}
                             for i in range(0, len(images), CALIBRATION_BATCH)])

    def get_next(self):
        return next(self.batches, None)


PROVIDERS = {"cpu": ["CPUExecutionProvider"], "cuda": ["CUDAExecutionProvider"]}


def session_options(threads: int | None) -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL  # a chain of layers has no parallel branches
    options.inter_op_num_threads = 1
    if threads:
        options.intra_op_num_threads = threads
    return options


class OrtRunner:
    """One ORT session, called with I/O binding (bind=True, the default) or `session.run`.

    `session.run(names, {name: array})` is ORT's documented default call: on every call it converts
    the input dict to OrtValues, allocates the output and wraps it in a new numpy array, several
    microseconds of a ~15-60 us batch-1 inference. With I/O binding the input and output buffers of
    each batch size (of the last BOUND_SHAPES sizes) are allocated and bound once (OrtValues viewing
    numpy arrays); a call copies x into the input buffer, runs, and returns a copy of the output
    buffer (40 bytes per image; the next call would overwrite it). On CUDA the bound buffers stay
    in host memory: run_with_iobinding copies them to and from the device inside the call, which
    waits for the GPU. The report times both calls side by side (docs/performance.md).
    """

    def __init__(self, session: ort.InferenceSession, bind: bool = True) -> None:
        self.session = session
        self.bind = bind
        self.input_name = session.get_inputs()[0].name
        self.output_name = session.get_outputs()[0].name
        self.names = [self.output_name]
        self.classes = session.get_outputs()[0].shape[-1]
        self.run_bound = session.run_with_iobinding
        # by input shape: (its binding, input buffer, output buffer)
        self.bound: dict[tuple[int, ...], tuple[ort.IOBinding, np.ndarray, np.ndarray]] = {}

    def _binding(self, shape: tuple[int, ...]) -> tuple[ort.IOBinding, np.ndarray, np.ndarray]:
        """Buffers and binding for one batch size, made on the first call at that size."""
        if shape not in self.bound:
            if len(self.bound) >= BOUND_SHAPES:
                del self.bound[next(iter(self.bound))]  # the oldest batch size
            x_buf = np.zeros(shape, dtype=np.float32)
            y_buf = np.zeros((shape[0], self.classes), dtype=np.float32)
            binding = self.session.io_binding()
            binding.bind_ortvalue_input(self.input_name, ort.OrtValue.ortvalue_from_numpy(x_buf))
            binding.bind_ortvalue_output(self.output_name, ort.OrtValue.ortvalue_from_numpy(y_buf))
            self.bound[shape] = (binding, x_buf, y_buf)
        return self.bound[shape]

    def predict(self, x: np.ndarray) -> np.ndarray:
        if not self.bind:
            try:  # ORT checks every dimension itself; it would read big-endian floats as garbage, run an empty batch
                if x.dtype is not FLOAT32 or not x.shape[0]:
                    raise TypeError
                return self.session.run(self.names, {self.input_name: x})[0]
            except Exception:  # check_input raises with what is wrong and the fix, else hands back a usable array
                return self.session.run(self.names, {self.input_name: check_input(x)})[0]
        try:  # hot path: a float32 batch of a size seen before (casting="no" refuses any other dtype)
            binding, x_buf, y_buf = self.bound[x.shape]
            np.copyto(x_buf, x, casting="no")
        except (AttributeError, KeyError, TypeError):  # bad input: check_input says what; else a new size
            binding, x_buf, y_buf = self._binding(check_input(x).shape)
            np.copyto(x_buf, x)
        self.run_bound(binding)
        return y_buf.copy()

    def raw(self, x: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        """ORT's own call, numpy in and numpy out, `session.run([output], {input: x})`, for both modes:
        I/O binding is this runner's way of calling ORT, so its overhead over ORT's own call can be
        negative."""
        check_input(x)
        run, names, name = self.session.run, self.names, self.input_name
        return lambda x: run(names, {name: x})[0]


def load(path: Path, threads: int | None = None, device: str = "cpu", bind: bool = True) -> Runner:
    session = ort.InferenceSession(str(path), session_options(threads), providers=PROVIDERS[device])
    return OrtRunner(session, bind)
