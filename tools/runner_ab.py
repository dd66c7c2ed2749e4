"""`python -m tools.runner_ab --base REV`: each runner now against the same runner at git revision
REV, interleaved in one process, both measured against their runtime's own call.

The export format modules of REV (export/<format>.py) are read with `git show` into a temp folder
and imported under other names beside the current ones. For every (artifact, runtime) the
`--artifacts` patterns select, the old and the new runner load the same file, and they take turns
with the current runner's raw call (runner.raw: what the report's runner overhead is measured
against) in `--rounds` rounds of 200 batch-1 calls, one thread (runtime.harness.interleaved).
Printed per pair: the raw call's p50, the bound max(1 us, 10% of it), and the medians over rounds of
old - raw, new - raw and new - old, each with its 95% interval.
"""
from __future__ import annotations

import argparse
import dataclasses
import fnmatch
import importlib
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from common.config import add_config_flags, config_from_args, option
from common.errors import UserError, run_cli
from runtime import harness, runners, stats
from runtime.manifest import read_manifest, verified_path

MODULES = ("variant", "torchscript", "torchscript_lite", "onnx", "executorch")
# runtime -> (format module, keyword arguments of its load); the cpu runtimes that run artifacts
LOADERS = {"torchscript": ("torchscript", {}), "torchscript-lite": ("torchscript_lite", {}),
           "onnxruntime": ("onnx", {"bind": False}), "onnxruntime-iobinding": ("onnx", {}),
           "executorch-xnnpack": ("executorch", {}), "executorch-portable": ("executorch", {})}


@dataclasses.dataclass(frozen=True)
class AbConfig:
    base: str = option("HEAD", "git revision whose runners are the 'old' side")
    manifest: Path = option(Path("artifacts/manifest.json"), "the artifacts to load")
    artifacts: tuple[str, ...] = option(("*int8-dynamic_structured",), "shell patterns of artifact names")
    rounds: int = option(100, "interleaved rounds of 200 calls per side")

    def __post_init__(self) -> None:
        if self.rounds < 6:  # the fewest values a 95% interval of a median can come from (runtime.stats)
            raise ValueError(f"rounds must be at least 6, got {self.rounds}")


def old_modules(revision: str, folder: Path) -> dict[str, object]:
    """export/<module>.py of `revision`, importable as old_<module>, their imports of each other rewired."""
    root = Path(__file__).resolve().parents[1]
    for name in MODULES:
        done = subprocess.run(["git", "show", f"{revision}:export/{name}.py"], cwd=root, capture_output=True, text=True)
        if done.returncode:
            raise UserError(f"git show {revision}:export/{name}.py failed ({done.stderr.strip()}); pass another --base")
        source = done.stdout
        for other in MODULES:
            source = re.sub(rf"\bfrom export\.{other} import", f"from old_{other} import", source)
            source = re.sub(rf"^from export import {other}$", f"import old_{other} as {other}", source, flags=re.M)
        (folder / f"old_{name}.py").write_text(source)
    sys.path.insert(0, str(folder))
    try:
        for name in MODULES:
            sys.modules.pop(f"old_{name}", None)  # another revision's, from an earlier call
        return {name: importlib.import_module(f"old_{name}") for name in MODULES}
    finally:
        sys.path.remove(str(folder))


def compare(runtime: str, path: Path, old, rounds: int) -> str:
    module, kwargs = LOADERS[runtime]
    x = np.ascontiguousarray(np.random.default_rng(0).standard_normal((1, 1, 28, 28), dtype=np.float32))
    new, before = runners.load(runtime, path, threads=1), getattr(old[module], "load")(path, threads=1, **kwargs)
    p50 = harness.interleaved({"raw": new.raw(x), "old": before.predict, "new": new.predict}, x, rounds, 200, 100)
    raw = float(np.median(p50["raw"]))
    parts = [f"{runtime} {path.name}: raw {raw:.2f} us, bound {max(1.0, raw / 10):.2f}"]
    for label, a, b in (("old-raw", "old", "raw"), ("new-raw", "new", "raw"), ("new-old", "new", "old")):
        low, high = stats.median_interval(p50[a] - p50[b])
        parts.append(f"{label} {np.median(p50[a] - p50[b]):+.2f} [{low:+.2f}, {high:+.2f}]")
    return "; ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.runner_ab", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_flags(parser, AbConfig, config_file=False)
    cfg = config_from_args(AbConfig, "runner_ab", parser.parse_args(argv))
    manifest = read_manifest(cfg.manifest)
    with tempfile.TemporaryDirectory(prefix="runner-ab-") as tmp:
        old = old_modules(cfg.base, Path(tmp))
        for artifact in manifest.artifacts:
            if artifact.status == "ok" and any(fnmatch.fnmatchcase(artifact.name, p) for p in cfg.artifacts):
                for runtime in runners.runtimes_for(artifact):
                    print(compare(runtime, verified_path(manifest, artifact), old, cfg.rounds), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
