"""runtime.peak_rss: its subprocess ends with the report when the report is interrupted."""
from __future__ import annotations

import os
import signal
import threading
import time

from common.errors import run_cli
from runtime import peak_rss
from runtime.manifest import read_manifest, verified_path
from tests.processes import command_of, descendants, running


def test_sigterm_during_a_peak_rss_measurement_ends_its_subprocess(small_export):
    manifest = read_manifest(small_export)
    path = verified_path(manifest, manifest.artifacts[0])
    seen = []

    def terminate_once_it_runs() -> None:
        deadline = time.monotonic() + 300
        while not seen and time.monotonic() < deadline:
            time.sleep(0.1)
            seen.extend(p for p in descendants(os.getpid()) if "runtime.peak_rss" in command_of(p))
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=terminate_once_it_runs, daemon=True).start()
    code = run_cli(lambda argv: peak_rss.measure_in_subprocess("onnxruntime", path, batch=1) and 0, [])
    assert seen and code == 143
    time.sleep(0.5)
    assert not [p for p in seen if running(p)]
