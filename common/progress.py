"""Progress a person can read: bars that native libraries' log lines do not break.

ExecuTorch logs `[threadpool.cpp:66] Resetting threadpool to N threads` on every program load,
and cpuinfo its warnings, by writing to file descriptor 2 from C++: replacing Python's sys.stderr
never sees them, and each one lands in the middle of a progress bar, which then redraws below it.
`native_logs_above_bars` points fd 2 at a pipe for as long as it is held. A thread reads the pipe
line by line and prints each line above the bars (tqdm.write), except the known notices that
repeat on every load (NOTICES), which it counts and names once at the end. Python's own
sys.stderr (bars, warnings, tracebacks, `error:` lines) keeps writing to the terminal directly.
"""
from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from typing import Iterator

from tqdm import tqdm

# Native notices that say nothing a reader of the bars needs, one per load: counted, not shown.
NOTICES = {
    "ExecuTorch threadpool resets": re.compile(r"\[threadpool\.cpp:\d+\] Resetting threadpool"),
    # its probe of the CPU's identification files, which containers and VMs do not have
    "ExecuTorch cpuinfo probes": re.compile(r"\[cpuinfo_utils\.cpp:\d+\] "),
    "cpuinfo warnings": re.compile(r"^(Error|Warning) in cpuinfo: "),
}


@contextlib.contextmanager
def native_logs_above_bars() -> Iterator[None]:
    """Hold fd 2 on a pipe whose lines are printed above the bars (see the module docstring)."""
    sys.stderr.flush()
    terminal = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)
    python_stderr = out = sys.stderr
    if _fileno(python_stderr) == 2:  # Python's own writes and the bars go to the terminal, not the pipe
        out = sys.stderr = open(os.dup(terminal), "w", buffering=1,  # noqa: SIM115 - closed when unreferenced
                                encoding=python_stderr.encoding, errors="backslashreplace")
    counted = dict.fromkeys(NOTICES, 0)
    # The pump writes through the bars' own stream: tqdm.write clears the bars on that stream first.
    pump = threading.Thread(target=_pump, args=(read_end, out, counted), daemon=True)
    pump.start()
    try:
        yield
    finally:
        out.flush()
        os.dup2(terminal, 2)  # the pipe's last write end in this process: the pump reads to its end
        os.close(terminal)
        pump.join(timeout=2)  # a child still holding the pipe (it inherited fd 2) must not hang us
        sys.stderr = python_stderr
        hidden = ", ".join(f"{n} {what}" for what, n in counted.items() if n)
        if hidden:
            print(f"(native log lines not shown: {hidden})", file=sys.stderr, flush=True)


def _fileno(stream) -> int | None:
    try:
        return stream.fileno()
    except (AttributeError, OSError, ValueError):  # pytest's capture, io.StringIO: no descriptor
        return None


def _pump(read_end: int, out, counted: dict[str, int]) -> None:
    """Copy the pipe's lines above the bars until the pipe ends (every writer closed it)."""
    with open(read_end, "rb") as pipe:
        for raw in pipe:
            line = raw.decode(errors="backslashreplace").rstrip()
            notice = next((what for what, pattern in NOTICES.items() if pattern.search(line)), None)
            if notice:
                counted[notice] += 1
            elif line:
                tqdm.write(line, file=out)
