"""Progress a person can read: bars that native libraries' log lines do not break.

ExecuTorch logs `[threadpool.cpp:66] Resetting threadpool to N threads` on every program load,
and cpuinfo its warnings, by writing to file descriptor 2 from C++: replacing Python's sys.stderr
never sees them, and each one lands in the middle of a progress bar, which then redraws below it.
`native_logs_above_bars` points fd 2 at a pipe for as long as it is held. A thread reads the pipe
line by line and prints each line above the bars (tqdm.write), except the known notices that
repeat on every load (NOTICES), which it counts and names once at the end. Python's own
sys.stderr (bars, warnings, tracebacks, `error:` lines) keeps writing to the terminal directly,
but ExecuTorch's Python bindings send the same C++ log lines through sys.stderr (pybind11's stream
redirect), not fd 2, so sys.stderr holds and sorts those lines the same way (_StderrAboveBars).
"""
from __future__ import annotations

import contextlib
import functools
import io
import os
import re
import sys
import threading
from typing import Callable, Iterator

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
    counted = dict.fromkeys(NOTICES, 0)
    if _fileno(python_stderr) == 2:  # Python's own writes and the bars go to the terminal, not the pipe
        out = sys.stderr = _StderrAboveBars(open(os.dup(terminal), "w", buffering=1,  # noqa: SIM115 - closed when unreferenced
                                                 encoding=python_stderr.encoding, errors="backslashreplace"),
                                            counted)
    # The pump writes through the bars' own stream: tqdm.write clears the bars on that stream first.
    above = out.above_bars if isinstance(out, _StderrAboveBars) else functools.partial(tqdm.write, file=out)
    pump = threading.Thread(target=_pump, args=(read_end, above, counted), daemon=True)
    pump.start()
    try:
        yield
    finally:
        out.flush()
        os.dup2(terminal, 2)  # the pipe's last write end in this process: the pump reads to its end
        os.close(terminal)
        pump.join(timeout=2)  # a child still holding the pipe (it inherited fd 2) must not hang us
        if isinstance(out, _StderrAboveBars):
            out.end()
        sys.stderr = python_stderr
        hidden = ", ".join(f"{n} {what}" for what, n in counted.items() if n)
        if hidden:
            print(f"(native log lines not shown: {hidden})", file=sys.stderr, flush=True)


def _fileno(stream) -> int | None:
    try:
        return stream.fileno()
    except (AttributeError, OSError, ValueError):  # pytest's capture, io.StringIO: no descriptor
        return None


def _pump(read_end: int, above: Callable[[str], None], counted: dict[str, int]) -> None:
    """Copy the pipe's lines above the bars until the pipe ends (every writer closed it)."""
    with open(read_end, "rb") as pipe:
        for raw in pipe:
            _show(raw.decode(errors="backslashreplace").rstrip(), above, counted)


def _show(line: str, above: Callable[[str], None], counted: dict[str, int]) -> None:
    """Count a NOTICE; print any other non-empty line above the bars (`above`)."""
    notice = next((what for what, pattern in NOTICES.items() if pattern.search(line)), None)
    if notice:
        counted[notice] += 1
    elif line:
        above(line)


# How a log line starts: ExecuTorch's C++ `[file.cpp:N] `, glog's `W1203 14:06:53.199000 ` (torch's
# own logging, and ExecuTorch's E00:00:00 form).
LOG_LINE = re.compile(r"\[|[IWEF]\d{2}[\d:]")


class _StderrAboveBars(io.TextIOBase):
    """sys.stderr while the bars run: writes go to the terminal as they come, except a log line
    (LOG_LINE; ExecuTorch's bindings write theirs in pieces): held to its newline, then counted or
    printed above the bars like a line from fd 2. The pump thread prints through it too; both take
    tqdm's own lock, the one a bar holds while it redraws, so there is one lock order."""

    def __init__(self, terminal, counted: dict[str, int]) -> None:
        self.terminal, self.counted = terminal, counted
        self.held = ""
        self.above = False  # inside tqdm.write: its clear, line and redraw go straight through

    def write(self, text: str) -> int:
        with tqdm.get_lock():
            if self.above or not (self.held or LOG_LINE.match(text)):
                return self.terminal.write(text)
            self.held += text
            while "\n" in self.held:
                line, _, self.held = self.held.partition("\n")
                _show(line, self.above_bars, self.counted)
            if self.held and not LOG_LINE.match(self.held):
                self.terminal.write(self.held)
                self.held = ""
            return len(text)

    def above_bars(self, line: str) -> None:
        with tqdm.get_lock():
            self.above = True
            try:
                tqdm.write(line, file=self)
            finally:
                self.above = False

    def flush(self) -> None:  # pybind11 flushes after every piece: a held line stays held
        self.terminal.flush()

    def end(self) -> None:
        """Write out a log line that never ended."""
        self.terminal.write(self.held)
        self.held = ""
        self.terminal.flush()

    def fileno(self) -> int:
        return self.terminal.fileno()

    def isatty(self) -> bool:
        return self.terminal.isatty()

    @property
    def encoding(self) -> str:
        return self.terminal.encoding
