"""Export stage: the trained checkpoint -> TorchScript, ONNX and ExecuTorch artifacts plus manifest.json."""

import common  # noqa: F401  (turns ONNX Runtime's telemetry off before anything imports it)
