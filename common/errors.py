"""The one exception type that means "the user must fix something", and the CLI wrapper.

Every `python -m` entry point runs its main() through run_cli: a UserError, a disk that refuses
a write, Ctrl-C and SIGTERM each become one line on stderr and an exit code. Any other exception
is a bug and keeps its traceback.
"""
from __future__ import annotations

import errno
import signal
import sys
import threading
from typing import Callable

DISK_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)  # the disk's fault, not the content's


class UserError(Exception):
    """Bad input: a config value, a file, a folder. The message says what to do."""


def one_line(e: BaseException) -> str:
    """The exception type and the first line of its message: how a failed row states its reason."""
    first = (str(e).strip().splitlines() or [""])[0]
    return f"{type(e).__name__}: {first[:300]}"


def disk_error(e: BaseException | None) -> OSError | None:
    """The OSError in `e` or what caused it that is the disk refusing writes (full, over quota or
    read-only), or None: libraries wrap it in their own exceptions."""
    while e is not None:
        if isinstance(e, OSError) and e.errno in DISK_ERRORS:
            return e
        e = e.__cause__ or e.__context__
    return None


def disk_full(e: BaseException | None) -> bool:
    """Whether `e` (or what caused it) is the disk refusing writes."""
    return disk_error(e) is not None


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM takes Ctrl-C's path, so every `finally` and `except BaseException` cleanup runs
    (temp folders removed, child processes ended, unfinished run folders abandoned). A second
    SIGTERM ends the process at once."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise KeyboardInterrupt(signum)


def run_cli(main: Callable[[list[str] | None], int], argv: list[str] | None = None,
            interrupted: str = "") -> int:
    """Run a command's main(); turn bad input, a full disk, Ctrl-C and SIGTERM into one line.

    `interrupted` is what is true after Ctrl-C for this command (training: its finished epochs are
    saved; the export: nothing is published). Exit codes: 2 bad input or a full disk, 130 Ctrl-C,
    143 SIGTERM. Without `interrupted` the line claims nothing about what was kept."""
    main_thread = threading.current_thread() is threading.main_thread()  # only it may set handlers
    previous = signal.signal(signal.SIGTERM, _terminate) if main_thread else None
    try:
        return main(argv)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:
        signum = e.args[0] if e.args and e.args[0] == signal.SIGTERM else signal.SIGINT
        print(f"interrupted ({signal.Signals(signum).name})" + (f": {interrupted}" if interrupted else ""),
              file=sys.stderr)
        return 128 + signum
    except Exception as e:
        refused = disk_error(e)
        if refused is None:
            raise
        where = f" to {refused.filename}" if refused.filename else ""
        print(f"error: the disk refused a write{where} ({refused.strerror}); free space or choose another folder, "
              f"then rerun", file=sys.stderr)
        return 2
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
