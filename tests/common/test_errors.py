"""common.errors.run_cli: one line and an exit code for bad input, Ctrl-C and SIGTERM."""
from __future__ import annotations

import os
import signal
import time

import pytest

from common.errors import UserError, run_cli


def test_a_user_error_is_one_line_and_exit_2(capsys):
    def main(argv):
        raise UserError("bad flag; use another")
    assert run_cli(main, []) == 2 and capsys.readouterr().err == "error: bad flag; use another\n"


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_and_sigterm_unwind_and_print_the_commands_own_line(capsys, sig, code):
    """SIGTERM is raised in the main thread like Ctrl-C, so `finally` blocks run (children ended,
    temp folders removed) before the line; the handler before run_cli is back afterwards."""
    cleaned = []

    def main(argv):
        try:
            os.kill(os.getpid(), sig)
            time.sleep(30)  # the handler raises here at the latest
            raise AssertionError("still running after the signal")
        finally:
            cleaned.append(True)
    before = signal.getsignal(signal.SIGTERM)
    assert run_cli(main, [], interrupted="interrupted: what this command leaves") == code
    assert cleaned == [True] and capsys.readouterr().err == "interrupted: what this command leaves\n"
    assert signal.getsignal(signal.SIGTERM) is before
