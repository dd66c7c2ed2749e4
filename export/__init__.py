"""Export stage: the trained checkpoint -> TorchScript, ONNX and ExecuTorch artifacts plus manifest.json."""
