"""Child processes that end with the work that started them.

A stage's helper processes (the ARM64 target's qemu emulations, the probe that loads untrusted
artifacts first) are started through a `Children` group. `end()` kills those still running and
refuses new ones, so a worker thread that is between two jobs cannot start another: the owner
calls it when it is interrupted (Ctrl-C, or SIGTERM, which common.errors.run_cli turns into an
exception like Ctrl-C's), before it removes the temp folders its children write into.
"""
from __future__ import annotations

import subprocess
import threading


class Ended(RuntimeError):
    """A child was asked for after its group ended (the work is being interrupted)."""


class Children:
    """The child processes of one owner; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: set[subprocess.Popen] = set()
        self._ended = False

    def popen(self, command: list[str], **kwargs) -> subprocess.Popen:
        """subprocess.Popen, counted in this group until it is waited for by `run` or killed by `end`."""
        with self._lock:
            if self._ended:
                raise Ended(f"not starting {command[0]}: the work is being interrupted")
            process = subprocess.Popen(command, **kwargs)
            self._live.add(process)
        return process

    def run(self, command: list[str], timeout: float, **kwargs) -> subprocess.CompletedProcess:
        """subprocess.run(command, capture_output=True, text=True, timeout=timeout): the child is
        killed on a timeout or any exception, as subprocess.run does, and by `end`."""
        process = self.popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except BaseException:
            process.kill()
            process.communicate()
            raise
        finally:
            with self._lock:
                self._live.discard(process)
        return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)

    def end(self) -> None:
        """Kill every child still running and wait for each; later popen/run calls raise Ended."""
        with self._lock:
            self._ended = True
            live, self._live = list(self._live), set()
        for process in live:
            if process.poll() is None:
                process.kill()
        for process in live:
            process.wait()
