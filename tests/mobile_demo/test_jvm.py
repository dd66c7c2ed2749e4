"""The Android app's platform-independent core: its JUnit 4 suite, compiled and run on the JDK."""
from __future__ import annotations

import re


def test_junit_suite_passes(jvm_run):
    out = jvm_run.stdout + jvm_run.stderr
    assert jvm_run.returncode == 0, out[-4000:]
    last = jvm_run.stdout.strip().splitlines()[-1]
    m = re.fullmatch(r"JUnit: (\d+) passed, 0 failed", last)
    assert m, f"unexpected summary line {last!r}"
    assert int(m.group(1)) >= 25, "the JUnit suite shrank: every core class must stay tested"
