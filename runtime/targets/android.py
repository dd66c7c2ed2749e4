"""The android target: the Android demo's own benchmark on a phone, read from the results file
each phone filed (`python -m runtime.android` writes reports/device_results/android-<serial>.json;
schema: docs/manifest.md, "Device results"). One card per phone."""
from __future__ import annotations

from runtime import device_results
from runtime.targets.base import Context, Measured, Target

NAME = "android"


def unavailable(ctx: Context) -> str | None:
    return device_results.unavailable(NAME, ctx)


def measure_android(ctx: Context) -> Measured:
    return device_results.measured(NAME, ctx)


TARGET = Target(name=NAME, title="Android phone", metric="p50_us", metric_label="p50 latency at batch 1 on the phone",
                baseline=None, how_to_measure="python -m runtime.android",
                unavailable=unavailable, measure=measure_android)
