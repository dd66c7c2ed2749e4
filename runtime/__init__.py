"""Runtime stage: load every exported artifact with its own runtime, check accuracy, measure latency, report."""

import common  # noqa: F401  (turns ONNX Runtime's telemetry off before anything imports it)
