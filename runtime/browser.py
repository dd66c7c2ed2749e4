"""`python -m runtime.browser`: the web demo's benchmark in headless Chromium, filed at
reports/device_results/browser-wasm.json, where `python -m runtime` reads it.

Runs `node mobile_demo/web/bench.mjs bench`: onnxruntime-web's WebAssembly backend on the ONNX
artifacts embedded in mobile_demo/web/models, in Debian's chromium through playwright-core.
Skipped, with one line saying why, when that file was measured on the same embedded models, web
demo code and npm packages, node and chromium, and counts (common/stages.py); --force measures again.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from common import stages
from common.config import add_config_flags, check_fields, config_from_args, option
from runtime.config import MAX_CALLS
from common.errors import UserError, run_cli

WEB = Path(__file__).resolve().parents[1] / "mobile_demo" / "web"
# What a browser result is a function of beside the models: the page, its code and the locked
# npm packages (onnxruntime-web's version among them).
DEMO_FILES = ("bench.mjs", "index.html", "app.js", "core.js", "package-lock.json")


@dataclasses.dataclass(frozen=True)
class BrowserConfig:
    models: Path = option(WEB / "models", "the embedded ONNX artifacts and their manifest (`python -m export --embed`)")
    warmup: int = option(100, "untimed runs per artifact before timing", low=0, high=MAX_CALLS)
    iterations: int = option(1000, "timed runs per artifact, batch 1, one at a time", low=2, high=MAX_CALLS)
    out: Path = option(Path("reports/device_results/browser-wasm.json"), "where the results are filed")

    def __post_init__(self) -> None:
        check_fields(self)  # the bounds declared beside each field


def chromium() -> str:
    return os.environ.get("CHROMIUM", "/usr/bin/chromium")  # bench.mjs's default, and its override


def tool_version(command: list[str]) -> str:
    """`<tool> --version`'s first line; UserError naming the install step when the tool is absent."""
    if shutil.which(command[0]) is None:
        raise UserError(f"{command[0]} not found; run `make system-pipeline` (or install it) and rerun")
    done = subprocess.run(command + ["--version"], capture_output=True, text=True, timeout=60)
    return (done.stdout.strip().splitlines() or ["unknown"])[0]


def stage_inputs(cfg: BrowserConfig) -> dict[str, Any]:
    return {"config": {"warmup": cfg.warmup, "iterations": cfg.iterations},
            "models": stages.files([cfg.models]), "demo": stages.files(WEB / f for f in DEMO_FILES),
            "tools": {"node": tool_version(["node"]), "chromium": tool_version([chromium()])}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runtime.browser", description=__doc__.splitlines()[0])
    add_config_flags(parser, BrowserConfig, config_file=False)
    parser.add_argument("--force", action="store_true", help="measure even when the results are up to date")
    args = parser.parse_args(argv)
    cfg = config_from_args(BrowserConfig, "browser", args)
    if not (cfg.models / "manifest.json").is_file():
        raise UserError(f"no embedded models in {cfg.models}; run `python -m export --embed true` first")
    with stages.running("browser", cfg.out, lambda: stage_inputs(cfg), args.force) as stage:
        if stage is None:
            return 0
        command = ["node", str(WEB / "bench.mjs"), "bench", "--warmup", str(cfg.warmup),
                   "--iterations", str(cfg.iterations), "--models", str(cfg.models), "--out", str(cfg.out)]
        code = subprocess.run(command).returncode
        if code == 0:
            stage.done([cfg.out])
    return code


if __name__ == "__main__":
    sys.exit(run_cli(main))
