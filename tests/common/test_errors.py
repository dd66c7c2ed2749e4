"""common/errors.py run_cli: bad input, a full disk, Ctrl-C and SIGTERM each end in one line."""
from __future__ import annotations

import errno
import os
import signal

import pytest

from common.errors import UserError, run_cli


def test_sigterm_runs_the_cleanup_and_says_what_the_command_keeps(capsys):
    cleaned = []

    def main(argv):
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            signal.sigtimedwait([], 0)  # let the handler run here, inside the try
            raise AssertionError("SIGTERM did not interrupt")
        finally:
            cleaned.append(True)
    code = run_cli(main, [], interrupted="nothing was published")
    assert code == 143 and cleaned == [True]
    assert capsys.readouterr().err == "interrupted (SIGTERM): nothing was published\n"
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the caller's handler is back


def test_ctrl_c_claims_nothing_unless_the_command_says_what_is_true(capsys):
    def main(argv):
        raise KeyboardInterrupt
    assert run_cli(main, []) == 130
    assert capsys.readouterr().err == "interrupted (SIGINT)\n"


def test_a_full_disk_anywhere_is_one_line_like_bad_input(capsys):
    def main(argv):
        try:
            raise OSError(errno.ENOSPC, "No space left on device", "/data/out.bin")
        except OSError as e:
            raise RuntimeError("the library's own message") from e
    assert run_cli(main, []) == 2
    assert capsys.readouterr().err == ("error: the disk refused a write to /data/out.bin (No space left on device); "
                                       "free space or choose another folder, then rerun\n")


def test_other_exceptions_are_bugs_and_keep_their_traceback():
    def main(argv):
        raise ValueError("a bug")
    with pytest.raises(ValueError, match="a bug"):
        run_cli(main, [])
