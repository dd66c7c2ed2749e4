"""common/progress.py: native libraries' writes to fd 2 land above the bars, known notices counted."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# C++ libraries write to fd 2 directly: libc's write(2) is what their loggers end in.
STAGE = textwrap.dedent("""
    import ctypes, sys
    from tqdm import tqdm
    from common.progress import native_logs_above_bars
    libc = ctypes.CDLL(None)
    def native(text):
        data = text.encode()
        libc.write(2, data, len(data))
    with native_logs_above_bars():
        for i in tqdm(range(4), desc="stage", mininterval=0):
            native("[threadpool.cpp:66] Resetting threadpool to 1 threads.\\n")
            if i == 2:
                native("E00:00:00.000 executorch:method.cpp:1 a native error\\n")
    print("python after", file=sys.stderr)
""")


def test_native_lines_never_land_inside_a_bar():
    done = subprocess.run([sys.executable, "-c", STAGE], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.replace("\r", "\n").splitlines()
    assert "Resetting threadpool" not in done.stderr  # counted, not shown
    assert "E00:00:00.000 executorch:method.cpp:1 a native error" in lines  # a line of its own, above the bar
    assert all(line.startswith("stage:") for line in lines if "%|" in line)  # every bar line whole
    assert "(native log lines not shown: 4 ExecuTorch threadpool resets)" in lines
    assert lines[-1] == "python after"  # fd 2 and sys.stderr are the terminal's again


# ExecuTorch's Python bindings send its C++ log lines through sys.stderr instead, a piece at a time.
REAL_LOADS = textwrap.dedent("""
    import sys
    from pathlib import Path
    import numpy as np
    from tqdm import tqdm
    from common.progress import native_logs_above_bars
    from export import formats
    with native_logs_above_bars():
        for _ in tqdm(range(2), desc="stage", mininterval=0):
            runner = formats.get("executorch").load(Path(sys.argv[1]), threads=1)
            runner.predict(np.zeros((1, 1, 28, 28), np.float32))
            runner = None
""")


def test_executorchs_own_log_lines_never_land_inside_a_bar(few_artifacts):
    pte = few_artifacts.parent / "mlp_executorch-xnnpack_fp32.pte"
    done = subprocess.run([sys.executable, "-c", REAL_LOADS, str(pte)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.replace("\r", "\n").splitlines()
    assert "Resetting threadpool" not in done.stderr and "cpuinfo_utils" not in done.stderr, done.stderr
    assert all(line.startswith("stage:") for line in lines if "%|" in line), done.stderr
    assert any(line.startswith("(native log lines not shown: ") and "ExecuTorch" in line for line in lines), done.stderr
