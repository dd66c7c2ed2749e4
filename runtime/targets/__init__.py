"""The report's targets: one module each, listed once here, in the order they are measured (the
arm64 target reuses the cpu target's x86 logits, so cpu comes first). Adding a target is one
module defining `TARGET` (runtime/targets/base.py) and one entry here."""
from __future__ import annotations

from runtime.targets import android, arm64, browser, cpu, cuda
from runtime.targets.base import Target

TARGETS: dict[str, Target] = {t.name: t for t in (cpu.TARGET, cuda.TARGET, arm64.TARGET, android.TARGET,
                                                   browser.TARGET)}
