"""The one exception type that means "the user must fix something", and the CLI wrapper.

CLIs catch it, print its one-line message (which names the problem and the fix)
and exit with status 2. Any other exception is a bug and keeps its traceback.
Ctrl-C and SIGTERM end a command the same way: as an exception in the main thread, so every
`finally` and `with` block on the way out runs (child processes ended, temp folders removed,
unfinished run folders abandoned), then one line that says what was kept.
"""
from __future__ import annotations

import signal
import sys
import threading
from typing import Callable

# What Ctrl-C leaves, unless a command says otherwise: true of training (train/__main__.py).
RESUME = "interrupted: finished work is saved; run the same command again to resume"


class UserError(Exception):
    """Bad input: a config value, a file, a folder. The message says what to do."""


def one_line(e: BaseException) -> str:
    """The exception type and the first line of its message: how a failed row states its reason."""
    first = (str(e).strip().splitlines() or [""])[0]
    return f"{type(e).__name__}: {first[:300]}"


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread as Ctrl-C's KeyboardInterrupt is, so the same cleanup runs."""


def _terminated(signum: int, frame) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends the process at once
    raise Terminated()


def run_cli(main: Callable[[list[str] | None], int], argv: list[str] | None = None,
            interrupted: str = RESUME) -> int:
    """Run a stage's main(); turn UserError, Ctrl-C and SIGTERM into one line and an exit code.
    `interrupted` is the line that says what an interrupted run of this command leaves behind; the
    exit code of an interruption is the shell's, 128 + the signal (130 for Ctrl-C, 143 for SIGTERM)."""
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminated) if in_main_thread else None
    try:
        return main(argv)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:
        print(interrupted, file=sys.stderr)
        return 128 + int(signal.SIGTERM if isinstance(e, Terminated) else signal.SIGINT)
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
