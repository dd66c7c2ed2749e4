"""`python -m export`: every format x variant from the trained checkpoint, verified, into artifacts/.

Exit status: 0 when every requested artifact is ok, unsupported or rejected (each with its reason),
1 when any failed (built or verified wrongly; the others are still written) or, with
--fail-on-rejected, when any was rejected; 2 for bad input (one line).

Skipped, with one line saying why, when artifacts/ was made from the same settings, checkpoint,
data, code and library versions and no file of it changed (common/stages.py); --force exports
anyway. --embed is its own step, skipped the same way (export/embed.py).
"""
from __future__ import annotations

import argparse
import re
import sys
import time
from typing import Any

from tqdm import tqdm

from common import progress, stages
from common.config import add_config_flags, as_dict, config_from_args
from common.errors import run_cli
from common.files import sha256_file
from export import manifest
from export.config import ExportConfig
from export.pipeline import run
from train import checkpoint, data

# Settings that say where things go or what happens after: not what the artifacts are made from.
NOT_INPUTS = ("checkpoint", "out_dir", "data_dir", "keep_runs", "embed", "embed_artifacts")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m export", description=__doc__)
    add_config_flags(parser, ExportConfig)
    parser.add_argument("--force", action="store_true", help="export (and embed) even when the outputs are up to date")
    args = parser.parse_args(argv)
    cfg = config_from_args(ExportConfig, "export", args)
    if cfg.embed:  # the demo folders are checked before the export's minutes of work, not after
        from export import embed  # the mobile demos' step; imported only when asked for
        embed.check_targets(embed.ANDROID_ASSETS, embed.WEB_MODELS)
    code = 0
    with stages.running("export", cfg.out_dir, lambda: stage_inputs(cfg), args.force) as stage:
        if stage is not None:
            with progress.native_logs_above_bars():  # ExecuTorch's threadpool lines, one per load
                code = export(cfg)
            if code == 0:
                stage.done([cfg.out_dir])  # the run published: every file behind the `artifacts` link
    if cfg.embed:
        embed.embed_step(cfg.out_dir / "manifest.json", names=cfg.embed_artifacts or None, force=args.force)
    return code


# export.pipeline logs "[ i/N] <variant> <status> ..." as each artifact is done: the stage's bar
# follows those lines (its ETA over the artifacts), every line printed above it.
VARIANT_LINE = re.compile(r"^\[\s*(\d+)/(\d+)\] ")


def export(cfg: ExportConfig) -> int:
    """One export run, published; its exit status (see the module docstring)."""
    start = time.perf_counter()
    # its lines stay; the bar shows from the first artifact on (an error before it is one clean line)
    # and only on a terminal (tqdm's disable=None), so logs and CI output get the lines alone
    with tqdm(desc="export", unit="artifact", mininterval=0.5, leave=False, delay=0.5, disable=None) as bar:
        def log(line: str) -> None:
            done = VARIANT_LINE.match(line)
            if done:
                bar.total, bar.n = int(done.group(2)), int(done.group(1))
                bar.refresh()
            bar.write(line)
        manifest_path = run(cfg, log=log)
    rows = manifest.read(manifest_path)["artifacts"]
    counts = {s: sum(r["status"] == s for r in rows) for s in manifest.STATUSES}
    print(f"done in {time.perf_counter() - start:.0f} s: {counts['ok']} ok, {counts['unsupported']} unsupported, "
          f"{counts['rejected']} rejected, {counts['failed']} failed -> {cfg.out_dir / 'manifest.json'} "
          f"(run {manifest_path.parent})")
    for r in rows:
        if r["status"] in ("failed", "rejected"):
            print(f"{r['status'].upper()} {r['name']}: {r['reason']}", file=sys.stderr)
    return 1 if counts["failed"] or (cfg.fail_on_rejected and counts["rejected"]) else 0


def stage_inputs(cfg: ExportConfig) -> dict[str, Any]:
    """What the artifacts are a function of: the settings that shape them, the checkpoint and the
    data (by sha256), this code, the libraries that build and verify them."""
    ckpt = checkpoint.load(cfg.checkpoint)  # a missing or broken one: the export's own one-line error
    spec = data.get_spec(ckpt["dataset"]["name"])
    return {"config": {k: v for k, v in as_dict(cfg).items() if k not in NOT_INPUTS},
            "checkpoint": sha256_file(cfg.checkpoint), "data": data.stage_data(spec, cfg.data_dir),
            "code": stages.code("export", "train", "common"), "versions": manifest.versions()}


if __name__ == "__main__":
    sys.exit(run_cli(main, interrupted="an unfinished run is never published: the output link points at the last "
                                       "run that printed done"))
