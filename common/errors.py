"""The one exception type that means "the user must fix something".

CLIs catch it, print its one-line message (which names the problem and the fix)
and exit with status 2. Any other exception is a bug and keeps its traceback.
"""
from __future__ import annotations

import sys
from typing import Callable


class UserError(Exception):
    """Bad input: a config value, a file, a folder. The message says what to do."""


def one_line(e: BaseException) -> str:
    """The exception type and the first line of its message: how a failed row states its reason."""
    first = (str(e).strip().splitlines() or [""])[0]
    return f"{type(e).__name__}: {first[:300]}"


def run_cli(main: Callable[[list[str] | None], int], argv: list[str] | None = None) -> int:
    """Run a stage's main(); turn UserError and Ctrl-C into one line and an exit code."""
    try:
        return main(argv)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: finished work is saved; run the same command again to resume",
              file=sys.stderr)
        return 130
