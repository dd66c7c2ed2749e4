"""Helpers every stage uses: typed configs with their bounds and CLI flags (config), the one
user-error type and the CLI wrapper (errors), atomic writes, hashes and the free-space check
(files), output-folder ownership (owner), run folders published by one symlink swap (runs).
Imports nothing from the stages."""

import os

# ONNX Runtime (>= 1.29 on Linux) starts a telemetry uploader thread at import unless this is set
# (its Python disable_telemetry_events() leaves the thread running): a measuring process runs no
# background thread of its own, and the toolkit sends nothing home. A value the user set stays.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
