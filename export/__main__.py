"""`python -m export`: every format x variant from the trained checkpoint, verified, into artifacts/.

Exit status: 0 when every requested artifact is ok, unsupported or rejected (each with its reason),
1 when any failed (built or verified wrongly; the others are still written) or, with
--fail-on-rejected, when any was rejected; 2 for bad input (one line).
"""
from __future__ import annotations

import argparse
import sys
import time

from common.config import add_config_flags, config_from_args
from common.errors import run_cli
from export import manifest
from export.config import ExportConfig
from export.pipeline import run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m export", description=__doc__)
    add_config_flags(parser, ExportConfig)
    args = parser.parse_args(argv)
    cfg = config_from_args(ExportConfig, "export", args)
    if cfg.embed:  # the demo folders are checked before the export's minutes of work, not after
        from export import embed  # the mobile demos' step; imported only when asked for
        embed.check_targets(embed.ANDROID_ASSETS, embed.WEB_MODELS)
    start = time.perf_counter()
    manifest_path = run(cfg, log=lambda line: print(line, flush=True))
    rows = manifest.read(manifest_path)["artifacts"]
    counts = {s: sum(r["status"] == s for r in rows) for s in manifest.STATUSES}
    print(f"done in {time.perf_counter() - start:.0f} s: {counts['ok']} ok, {counts['unsupported']} unsupported, "
          f"{counts['rejected']} rejected, {counts['failed']} failed -> {cfg.out_dir / 'manifest.json'} "
          f"(run {manifest_path.parent})")
    if cfg.embed:
        done = embed.embed(cfg.out_dir / "manifest.json", embed.ANDROID_ASSETS, cfg.embed_artifacts or None,
                           embed.WEB_MODELS)
        print(f"embedded {', '.join(done)} into the mobile demos")
    for r in rows:
        if r["status"] in ("failed", "rejected"):
            print(f"{r['status'].upper()} {r['name']}: {r['reason']}", file=sys.stderr)
    return 1 if counts["failed"] or (cfg.fail_on_rejected and counts["rejected"]) else 0


if __name__ == "__main__":
    sys.exit(run_cli(main, interrupted="an unfinished run is never published: the output link points at the last "
                                       "run that printed done"))
