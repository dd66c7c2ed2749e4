"""ExecuTorch `.pte`: torch.export -> (pt2e int8) -> to_edge_transform_and_lower -> to_executorch.

Backends:
  xnnpack   the graph is lowered to the XNNPACK delegate (what ExecuTorch ships for mobile CPUs).
  portable  no delegate: every op runs on the runtime's own CPU kernel library (the comparison
            point). aten.linear is kept whole so the runtime's linear kernel runs it.

Quantization (pt2e, XNNPACKQuantizer, per-channel symmetric int8 weights):
  int8-static   activations quantized with ranges calibrated on `calib` (training images only).
  int8-dynamic  activation ranges computed per call, weights int8.
The quantizer annotates the linear and conv operators the graph holds (with their fused ReLUs).
The compression search's other recipes (recipes()): per-tensor weights (static), the output layer left
in fp32, and quantization-aware training (prepare_qat_pt2e, one epoch on the training split) for
int8-static. On xnnpack the quantized linears and convs run as int8 XNNPACK kernels. On portable the same quantized
graph runs as quantize/dequantize ops around fp32 matmuls (int8 storage, fp32 compute): those
ops live in ExecuTorch's quantized kernel library, which a runtime must link (in Python,
`import executorch.kernels.quantized` registers it; load() does that).

XNNPACK takes the linear and conv layers, the ReLUs and the pooling; the MLP's flatten stays outside
as a view_copy, which to_executorch turns into a zero-copy memory view.

The batch dimension is dynamic, 1..MAX_BATCH: memory for MAX_BATCH images is planned into the
program, and predict() splits bigger batches into chunks.

The executorch imports are done inside the functions: importing executorch.exir and the
XNNPACK partitioner costs ~10 s on the 2-core build machine, and `import export` (the format
registry) must not pay that when no .pte is built or loaded.
"""
from __future__ import annotations

import weakref
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn
from torch.utils.data import TensorDataset

from common.errors import UserError
from common.numerics import adam, denormals_flushed
from export.variant import BOUND_SHAPES, FLOAT32, INPUT_SHAPE, QuantRecipe, Runner, Unsupported, Variant, check_input

FORMAT = "executorch"
BACKENDS = ("xnnpack", "portable")
EXTENSION = ".pte"

# Upper bound of the exported batch dimension. The runtime plans input/activation memory for
# this many images (1024 x 784 x 4 B = 3.2 MB input + every activation at 1024 images), so it is a
# memory-vs-chunking trade-off; predict() chunks anything larger.
MAX_BATCH = 1024
# torch.export specializes a dimension whose example size is 0 or 1, so the example uses 2.
EXAMPLE_BATCH = 2

# Runners alive now: ExecuTorch's threadpool may be resized only while there are none (threadpool()).
_live_runners: "weakref.WeakSet[ExecuTorchRunner]" = weakref.WeakSet()


# ---------------------------------------------------------------- build

def recipes(quantization: str, output_layer: str | None = None, **build_options: object) -> tuple[QuantRecipe, ...]:
    """pt2e's XNNPACKQuantizer offers per-channel (plain) or per-tensor weights (static only), leaving
    the output layer unquantized (mixed precision, when it is named), and quantization-aware training
    (static only: fake-quant observers trained on the training split), tried in this order."""
    mixed = (output_layer,) if output_layer else ()
    if quantization == "int8-dynamic":
        # No per-tensor recipe: XNNPACK's dynamically quantized linear takes per-channel weights only
        # (per-tensor leaves choose_qparams/quantize ops outside the delegate, with no kernels to run them).
        return (QuantRecipe(calibration="dynamic"),) + ((QuantRecipe(calibration="dynamic", fp32_layers=mixed),)
                                                        if mixed else ())
    calibration = "histogram"  # XNNPACK's static activation observer
    return (QuantRecipe(calibration=calibration), QuantRecipe(per_channel=False, calibration=calibration),
            *((QuantRecipe(calibration=calibration, fp32_layers=mixed),) if mixed else ()),
            QuantRecipe(calibration=calibration, qat_epochs=1))


def build(model: nn.Module, variant: Variant, calib: torch.Tensor, out: Path, recipe: QuantRecipe | None = None,
          train_set: TensorDataset | None = None) -> list[str]:
    """Write `variant` of `model` as a .pte at `out`; return notes for the manifest.
    `train_set` (training split) is needed only by a quantization-aware-training recipe."""
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import EdgeCompileConfig, to_edge_transform_and_lower

    if variant.backend not in BACKENDS:
        raise Unsupported(f"ExecuTorch backend {variant.backend!r} is not built here; choose one of {BACKENDS}")
    notes = [f"dynamic batch 1..{MAX_BATCH} (memory planned for {MAX_BATCH}; larger batches are chunked)"]
    program = exported(model)
    if variant.quantization != "none":
        program, qnotes = quantized(program, variant, calib, recipe or recipes(variant.quantization)[0], train_set)
        notes += qnotes
    try:
        if variant.backend == "xnnpack":
            edge = to_edge_transform_and_lower(program, partitioner=[XnnpackPartitioner()])
        else:
            # Keeping aten.linear whole (instead of permute_copy + addmm) lets the runtime's linear.out
            # kernel run it without transposing the 800x784 weight on every call: ~15x faster on 2 cores.
            config = EdgeCompileConfig(preserve_ops=[torch.ops.aten.linear.default])
            edge = to_edge_transform_and_lower(program, compile_config=config)
    except Exception as e:
        # The edge dialect's verifier refuses an operator outside Core ATen: ExecuTorch's kernel
        # libraries implement Core ATen only. (Its class lives in torch's private torch._export.)
        if type(e).__name__ != "SpecViolationError":
            raise
        first = str(e).strip().splitlines()[0].replace("torch._ops.", "")
        raise Unsupported(f"ExecuTorch cannot lower this model: {first[:240]}") from None
    notes.append(delegation_note(edge.exported_program().graph_module, variant.backend))
    with open(out, "wb") as f:
        edge.to_executorch().write_to_file(f)
    return notes


def exported(model: nn.Module) -> torch.export.ExportedProgram:
    """torch.export with a dynamic batch dimension (dim 0 of forward's first argument)."""
    batch = torch.export.Dim("batch", min=1, max=MAX_BATCH)
    example = (torch.zeros(EXAMPLE_BATCH, *INPUT_SHAPE),)
    return torch.export.export(model, example, dynamic_shapes=({0: batch},))


# The operators the quantizer is told to annotate, when the graph holds them (XNNPACKQuantizer's
# own targets: a conv annotation brings its fused-ReLU pattern along).
QUANTIZED_OPS = (torch.ops.aten.linear.default, torch.ops.aten.conv1d.default, torch.ops.aten.conv2d.default)


def graph_ops(program: torch.export.ExportedProgram) -> list:
    """Which of QUANTIZED_OPS the exported graph calls, in QUANTIZED_OPS order."""
    called = {node.target for node in program.graph.nodes if node.op == "call_function"}
    return [op for op in QUANTIZED_OPS if op in called]


def quantized(program: torch.export.ExportedProgram, variant: Variant, calib: torch.Tensor, recipe: QuantRecipe,
              train_set: TensorDataset | None) -> tuple[torch.export.ExportedProgram, list[str]]:
    """pt2e: annotate with XNNPACKQuantizer, observe `calib` (or train, for QAT), convert, export again."""
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
        XNNPACKQuantizer,
        get_symmetric_quantization_config,
    )
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e, prepare_qat_pt2e
    from torchao.quantization.pt2e.quantizer import get_module_name_filter

    dynamic = variant.quantization == "int8-dynamic"
    if variant.backend == "portable":
        import executorch.kernels.quantized  # noqa: F401  registers the q/dq out-variants to_executorch needs
    config = get_symmetric_quantization_config(is_per_channel=recipe.per_channel, is_dynamic=dynamic,
                                               is_qat=recipe.qat_epochs > 0)
    # Annotating by the operator types the graph holds gives the same annotation as set_global, but
    # skips the matchers of absent ops: the conv+batchnorm ones torch.export 12 pattern graphs, ~8 s
    # per build on 2 cores, which a model without conv never needs.
    quantizer = XNNPACKQuantizer()
    for op in graph_ops(program):
        quantizer.set_operator_type(op, config)
    if recipe.fp32_layers:  # mixed precision: nodes from these modules are left unannotated, so stay fp32
        skip = [get_module_name_filter(layer) for layer in recipe.fp32_layers]
        quantizer.set_filter_function(lambda node: not any(f(node) for f in skip))
    weights = "per-channel" if recipe.per_channel else "per-tensor"
    notes = [f"mixed precision: {', '.join(recipe.fp32_layers)} left in fp32"] if recipe.fp32_layers else []
    if recipe.qat_epochs:
        prepared = prepare_qat_pt2e(program.module(), quantizer)
        qat_train(prepared, train_set, recipe.qat_epochs)
        notes.append(f"pt2e quantization-aware training: {recipe.qat_epochs} epoch(s) on the training split "
                     f"(Adam lr {QAT_LR}), {weights} symmetric int8 weights, int8 activations")
    elif dynamic:
        prepared = prepare_pt2e(program.module(), quantizer)
        notes.append(f"pt2e int8-dynamic: {weights} symmetric int8 weights, activation range computed per call")
        # One forward pass is still needed: the weight observers record the weights' ranges when
        # they run (without it the weights get default qparams: logits off by ~16).
        prepared(torch.zeros(EXAMPLE_BATCH, *INPUT_SHAPE))
    else:
        if calib is None or len(calib) == 0:
            raise ValueError("int8-static needs calibration images (normalized training images), got none")
        prepared = prepare_pt2e(program.module(), quantizer)
        with torch.no_grad():
            for chunk in torch.split(calib, MAX_BATCH):  # the exported graph accepts at most MAX_BATCH
                prepared(chunk)
        notes.append(f"pt2e int8-static: {weights} symmetric int8 weights, per-tensor int8 activations "
                     f"calibrated ({recipe.calibration} observer) on {len(calib)} training images")
    if not dynamic:
        notes.append("int8-static logits are int8 too (XNNPACK keeps the output layer's result quantized): "
                     "they step by ~1/255 of the calibrated logit range and saturate at its ends, so max |diff| "
                     "vs fp32 is several units on extreme logits while top-1 agrees")
    converted = convert_pt2e(prepared)
    left = [name for name in float_layers(converted) if name not in recipe.fp32_layers]
    if left:
        why = ("XNNPACKQuantizer's int8-dynamic recipe does not annotate a conv followed by ReLU; int8-static "
               "quantizes it" if dynamic else "XNNPACKQuantizer does not annotate them")
        notes.append(f"{', '.join(left)} stay fp32: {why}")
    if variant.backend == "portable":
        notes.append("portable int8: quantize/dequantize ops around fp32 matmuls (int8 storage, fp32 compute); "
                     "needs ExecuTorch's quantized kernel library in the runtime")
    return exported(converted), notes


def float_layers(converted: torch.fx.GraphModule) -> list[str]:
    """Module names of the linear and conv calls whose weight the quantizer left in fp32 (a quantized
    one reads its weight through a dequantize op)."""
    names = []
    for node in converted.graph.nodes:
        if node.op == "call_function" and node.target in QUANTIZED_OPS:
            weight = node.args[1]
            if not (weight.op == "call_function" and "dequantize" in str(weight.target)):
                stack = list(node.meta.get("nn_module_stack", {}).values())
                names.append(stack[-1][0] if stack else node.name)
    return names


QAT_LR = 1e-4  # 10x below training's: QAT starts from trained weights and only adapts to rounding


def qat_train(prepared: torch.fx.GraphModule, train_set: TensorDataset | None, epochs: int) -> None:
    """Train the fake-quantized graph (observers and fake-quant in the loop); batches of 64, seeded."""
    from train import data  # torchvision: 5 s of imports on the 2-core machine, which loading a .pte never needs

    if train_set is None:
        raise ValueError("quantization-aware training needs the training split; pass train_set to build()")
    torch.manual_seed(0)
    optimizer = adam(prepared.parameters(), QAT_LR)
    loss_fn = nn.CrossEntropyLoss()
    with denormals_flushed():  # common/numerics.py: Adam's moments of never-updated weights go denormal
        for _ in range(epochs):
            for x, y in data.batches(train_set, 64, torch.Generator().manual_seed(0)):
                loss = loss_fn(prepared(x), y)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()


def delegation_note(graph: torch.fx.GraphModule, backend: str) -> str:
    """How much of the graph XNNPACK took: ops inside delegates vs ops left to the CPU kernels."""
    delegated, outside = 0, []
    for node in graph.graph.nodes:
        if node.op == "get_attr" and node.name.startswith("lowered_module_"):
            lowered = getattr(graph, node.target)
            delegated += sum(n.op == "call_function" for n in lowered.original_module.graph.nodes)
        elif node.op == "call_function" and node.name.startswith(("aten_", "quantized_", "dim_order_")):
            outside.append(node.name.rsplit("_default", 1)[0])  # edge op names: aten_view_copy_default_1
    kinds = ", ".join(sorted(set(outside)))
    if backend == "portable":
        # The executorch pip wheel's runtime links the optimized CPU kernels (e.g. opt_linear_out,
        # a cpublas gemm) over the portable ones; a phone runtime may link either.
        return f"not delegated: {len(outside)} ops ({kinds}) on the runtime's CPU kernel library"
    if not outside:
        return f"XNNPACK delegated {delegated} ops; nothing left outside"
    if set(outside) == {"aten_view_copy"}:
        return f"XNNPACK delegated {delegated} ops; only the flatten (view_copy, a zero-copy view at run time) is outside"
    return f"XNNPACK delegated {delegated} ops; {len(outside)} left outside ({kinds})"


# ---------------------------------------------------------------- load and run

class ExecuTorchRunner:
    """One loaded .pte method, numpy in, numpy out, through executorch.runtime's `Method.execute`.

    Per batch size (of the last BOUND_SHAPES sizes) this runner allocates once an input tensor and
    its numpy view; a call copies the images into it, executes, and returns the numpy view of the
    logits, which `execute` hands back as a fresh copy of the program's planned output (so the
    next call leaves them alone). The buffer lookup checks the shape, `x.dtype is FLOAT32` the
    dtype; anything else goes through check_input for its error, and a batch over the planned
    bound runs in chunks. predict is a closure (_predict), as TorchRunner's is: right after a
    native call every attribute lookup runs on cold caches (docs/performance.md).
    """

    def __init__(self, program, method, max_batch: int) -> None:
        self.program = program  # keeps the program (and its delegates) alive as long as the method
        self.method = method
        self.max_batch = max_batch
        # by input shape: (the inputs tuple holding the kept tensor, that tensor's numpy view)
        self.buffers: dict[tuple[int, ...], tuple[tuple[torch.Tensor], np.ndarray]] = {}
        # No reference back to self: a dropped runner frees its program at once (set_threads needs that).
        self.predict = _predict(method.execute, self.buffers, max_batch)

    def raw(self, x: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        """ExecuTorch's documented call on every runner's contract, numpy in and numpy out:
        `method.execute([torch.from_numpy(x)])[0].numpy()`, both conversions zero-copy (ORT's
        `session.run` takes and returns numpy itself). What predict() adds or saves (its kept input
        tensor, its checks) is measured against it (runtime/harness.py runner_overhead)."""
        check_input(x)
        execute, from_numpy = self.method.execute, torch.from_numpy
        return lambda x: execute([from_numpy(x)])[0].numpy()


def _predict(execute, buffers: dict, max_batch: int) -> Callable[[np.ndarray], np.ndarray]:
    """ExecuTorchRunner.predict. Hot path: a float32 batch of a size seen before, copied into its
    kept tensor (the same checks as export/torchscript.py's _predict, written out in each: a shared
    helper would add a Python call to every predict). Anything else goes through `other`."""
    def run(x: np.ndarray) -> np.ndarray:
        """A checked batch of at most max_batch images; a new size gets its kept tensor."""
        if x.shape not in buffers:
            if len(buffers) >= BOUND_SHAPES:
                del buffers[next(iter(buffers))]  # the oldest batch size
            tensor = torch.from_numpy(x.copy())
            buffers[x.shape] = ((tensor,), tensor.numpy())
        inputs, view = buffers[x.shape]
        view[...] = x
        return execute(inputs)[0].numpy()

    def other(x: np.ndarray) -> np.ndarray:
        """Bad input (check_input says what is wrong), a new batch size, or a batch over the planned bound."""
        x = check_input(x)
        if x.shape[0] > max_batch:
            return np.concatenate([run(x[i:i + max_batch]) for i in range(0, len(x), max_batch)])
        return run(x)

    def predict(x: np.ndarray) -> np.ndarray:
        try:  # a non-array has no .shape
            inputs, view = buffers[x.shape]
            if x.dtype is not FLOAT32:
                raise TypeError
            view[...] = x
        except (AttributeError, KeyError, TypeError):
            return other(x)
        return execute(inputs)[0].numpy()
    return predict


def load(path: Path, threads: int | None = None) -> Runner:
    """Load a .pte with executorch.runtime (XNNPACK and quantized kernels registered)."""
    import executorch.kernels.quantized  # noqa: F401  kernels for portable int8 programs
    from executorch.runtime import Runtime

    if threads:
        threadpool(threads)
    try:
        program = Runtime.get().load_program(Path(path))
        method = program.load_method("forward")
    except (RuntimeError, ValueError) as e:
        raise UserError(f"cannot load ExecuTorch program {path} ({str(e).splitlines()[0][:120]}); "
                        f"it is truncated or not a .pte: run `python -m export` again") from None
    runner = ExecuTorchRunner(program, method, planned_batch(method, path))
    _live_runners.add(runner)
    return runner


def planned_batch(method, path: Path) -> int:
    """The batch bound the program was planned for, after checking it takes our images."""
    meta = method.metadata
    if meta.num_inputs() != 1:
        raise UserError(f"{path} takes {meta.num_inputs()} inputs, expected 1 image tensor; "
                        f"it is not an MNIST .pte from `python -m export`")
    sizes = list(meta.input_tensor_meta(0).sizes())
    if tuple(sizes[1:]) != INPUT_SHAPE:
        raise UserError(f"{path} expects input {sizes}, not [N, 1, 28, 28]; "
                        f"it is not an MNIST .pte from `python -m export`")
    return sizes[0]


def threadpool(threads: int | None = None) -> int:
    """The size of ExecuTorch's process-wide threadpool (used by XNNPACK and the optimized CPU
    kernels), after resizing it to `threads` when given; refused while a loaded program uses it.

    The toolkit's one use of a private library API, kept in this one function: executorch.runtime
    has no way to size the pool, and the pybindings' `_unsafe_reset_threadpool` (with
    `_threadpool_get_thread_count`) is what ExecuTorch's own runners and torchao call. XNNPACK
    captures the pool when a method is loaded, and a reset destroys the old pool, so the size can
    only change while no runner is alive.
    """
    from executorch.extension.pybindings import portable_lib

    current = portable_lib._threadpool_get_thread_count()
    if threads is None or threads == current:
        return current
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    if len(_live_runners):
        # A reset frees the pool that loaded XNNPACK methods still point at (use-after-free).
        raise ValueError(f"ExecuTorch's threadpool already runs {current} threads for a loaded program; "
                         f"set threads={threads} before loading any .pte, after releasing every loaded runner, "
                         f"or in a new process")
    portable_lib._unsafe_reset_threadpool(threads)
    return threads
