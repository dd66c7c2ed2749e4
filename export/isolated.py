"""Each artifact's first load and call in a child process: a runtime that crashes on a file ends
the child, not the run.

ExecuTorch's loader aborts its process (SIGABRT) on some corrupt .pte files: a file identifier
that is not UTF-8 makes its error message fail to become a Python string, and the C++ exception
that follows terminates (6 of 8 files of random bytes here). A sha256 that matches the manifest only
says the file is the one that was hashed. So before a stage loads an artifact in its own process
(the export to verify what it built, the report to measure it), `check` has a child process load
it with its format's loader and call it once at batch 1. A child killed by a signal, or one that
exits or hangs, makes `check` return why, naming the signal; the caller records a failed row and
the next file gets a fresh child. A Python exception in the child is not a crash: the caller's own
load raises the same one, in its own process, safely.

One child serves a whole run (`python -m export.isolated`, one request per line on stdin). Starting
it costs an interpreter with torch and ONNX Runtime imported, ~3 s of CPU on the 2-core build
machine, and ExecuTorch's import at the first .pte, ~4.5 s more; each check after that takes
milliseconds. A child per artifact would pay the start for each of ~45. The child ends with its
parent: `close` kills it (at exit, whatever ended the run), and it reads its requests from a pipe,
so a parent killed outright leaves it EOF, and it exits.
"""
from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import warnings
from pathlib import Path

import numpy as np

from common.errors import one_line
from export.variant import INPUT_SHAPE

ROOT = Path(__file__).resolve().parents[1]
# One request, the child's start included: the imports alone took 40 s of wall time on the shared
# 2-core machine at load average 12; a load and one call take milliseconds.
TIMEOUT_S = 600


class Probe:
    """The child process and what it has said about each file (by format, path and sha256)."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.stderr = None                                            # the child's stderr, an unnamed temp file
        self.known: dict[tuple[str, str, str], str | None] = {}

    def check(self, fmt: str, path: Path, sha256: str | None = None) -> str | None:
        """None when the file's runtime survived loading it and one call (or raised: see the module
        docstring); else why not, in one line. With `sha256`, a file is asked about once per process."""
        key = (fmt, str(Path(path).resolve()), sha256)
        if sha256 is not None and key in self.known:
            return self.known[key]
        reason = self._ask(fmt, Path(path))
        if sha256 is not None:
            self.known[key] = reason
        return reason

    def _start(self) -> None:
        self.stderr = tempfile.TemporaryFile()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
        self.process = subprocess.Popen([sys.executable, "-m", "export.isolated"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=self.stderr, text=True, env=env, cwd=ROOT)

    def _ask(self, fmt: str, path: Path) -> str | None:
        if self.process is None or self.process.poll() is not None:
            self._start()
        process, logged = self.process, os.fstat(self.stderr.fileno()).st_size
        timed_out = threading.Event()
        watchdog = threading.Timer(TIMEOUT_S, lambda: (timed_out.set(), process.kill()))
        watchdog.start()
        try:
            process.stdin.write(json.dumps({"format": fmt, "path": str(path.resolve())}) + "\n")
            process.stdin.flush()
            answer = process.stdout.readline()
        except BrokenPipeError:
            answer = ""
        finally:
            watchdog.cancel()
        if answer:
            return None
        process.kill()
        code = process.wait()
        self.process = None
        how = (f"no answer in {TIMEOUT_S} s" if timed_out.is_set() else
               f"killed by {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}")
        said = os.pread(self.stderr.fileno(), 1 << 16, logged).decode(errors="replace").strip().splitlines()
        tail = f": {said[-1].strip()[:200]}" if said else ""
        return f"the {fmt} runtime crashed loading or first calling this file in a child process ({how}{tail})"

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None


_probe = Probe()
atexit.register(_probe.close)


def check(fmt: str, path: Path, sha256: str | None = None) -> str | None:
    """Probe.check on this process's one child (started on first use)."""
    return _probe.check(fmt, path, sha256)


def main() -> int:
    """The child: per request line {"format", "path"}, load the file, call it once, answer one line."""
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # whatever the runtimes print goes to stderr, never into the answers
    sys.stdout = sys.stderr
    warnings.simplefilter("ignore")
    from export import formats

    while line := sys.stdin.readline():
        request = json.loads(line)
        runner = None
        try:
            runner = formats.get(request["format"]).load(Path(request["path"]), threads=1)
            runner.predict(np.zeros((1, *INPUT_SHAPE), dtype=np.float32))
        except Exception as e:  # not a crash: the caller's own load raises it again
            print(f"isolated: {one_line(e)}", file=sys.stderr)
        runner = None  # released before the next load (ExecuTorch resizes its threadpool only without one)
        answers.write("done\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
