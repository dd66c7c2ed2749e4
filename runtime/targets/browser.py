"""The browser-wasm target: the web demo's benchmark (onnxruntime-web's WebAssembly backend in
headless Chromium, mobile_demo/web/bench.mjs), read from reports/device_results/browser-wasm.json
(schema: docs/manifest.md, "Device results")."""
from __future__ import annotations

from runtime import device_results
from runtime.targets.base import Context, Measured, Target

NAME = "browser-wasm"


def unavailable(ctx: Context) -> str | None:
    return device_results.unavailable(NAME, ctx)


def measure_browser(ctx: Context) -> Measured:
    return device_results.measured(NAME, ctx)


TARGET = Target(name=NAME, title="Browser (WebAssembly)", metric="p50_us",
                metric_label="p50 latency at batch 1 in the browser", baseline=None,
                how_to_measure="node mobile_demo/web/bench.mjs bench --out reports/device_results/browser-wasm.json",
                unavailable=unavailable, measure=measure_browser)
