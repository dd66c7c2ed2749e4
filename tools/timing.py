"""`python -m tools.timing` (`make timing`): the main job's time goals, timed on a fresh clone of
this checkout's HEAD (commits only), as a new user would run it, with the package caches warm (uv's,
npm's, Maven's):

  pipeline   `make pipeline` on the fresh clone                                   <= 8 min wall
  again      `make pipeline` again, nothing changed: <= 30 s wall, and every stage says it was skipped
  runtime    only [runtime] changed in pipeline.toml: train, export, embed and the browser benchmark
             skipped, the report run again
  test       `make test` on another fresh clone (--test; CI runs `bash .ci/run`)  <= 8 min wall

Wall time is the goal; beside it each figure has its CPU time (user + sys of every process the
command waited for) and the load average before and after, because the machine may be shared:
judge a slow wall time with a high load by its CPU time. Not a test: a timed test would fail on a
busy machine. Results -> reports/timing/timing.json.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

from common.config import add_config_flags, config_from_args, option
from common.errors import UserError, run_cli
from common.files import atomic_write_json, ensure_writable_dir

ROOT = Path(__file__).resolve().parents[1]
PIPELINE_S, AGAIN_S, TEST_S = 8 * 60.0, 30.0, 8 * 60.0
STAGES = ("train", "export", "embed", "browser", "report")
STAGE_LINE = re.compile(rf"^({'|'.join(STAGES)}): (skipped|running)\b(.*)$")


@dataclasses.dataclass(frozen=True)
class Timed:
    """One command on the clone: exit code, wall and CPU seconds, load average, each stage's line."""
    command: str
    code: int
    wall_s: float
    cpu_s: float
    load_before: list[float]
    load_after: list[float]
    stages: dict[str, dict]  # stage -> {"verdict": skipped | running, "why": ..., "at_s": seconds in}


def run_timed(command: list[str], cwd: Path, log: Path) -> Timed:
    """Run `command` in `cwd`, its output shown and kept in `log`; the stages' skip/run lines timed."""
    print(f"$ {' '.join(command)}   (in {cwd})", flush=True)
    load_before = [round(x, 2) for x in os.getloadavg()[:2]]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    stages, pending = {}, b""
    with open(log, "ab") as kept, subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE,
                                                   stderr=subprocess.STDOUT) as process:
        while chunk := os.read(process.stdout.fileno(), 65536):
            sys.stdout.buffer.write(chunk)
            sys.stdout.flush()
            kept.write(chunk)
            *lines, pending = re.split(rb"[\r\n]", pending + chunk)
            for line in lines:
                found = STAGE_LINE.match(line.decode(errors="replace").strip())
                if found and found.group(1) not in stages:
                    stages[found.group(1)] = {"verdict": found.group(2), "why": found.group(3).strip(": "),
                                              "at_s": round(time.perf_counter() - start, 1)}
        code = process.wait()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timed(" ".join(command), code, round(wall, 1), round(cpu, 1), load_before,
                 [round(x, 2) for x in os.getloadavg()[:2]], stages)


def fresh_clone(where: Path, name: str) -> Path:
    folder = where / name
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(folder)], check=True)
    return folder


def change_only_runtime(clone: Path) -> None:
    """One [runtime] setting changed in the clone's pipeline.toml (cv_warn, a reporting threshold),
    checked to leave every other section as it was."""
    path = clone / "pipeline.toml"
    text = path.read_text()
    before = tomllib.loads(text)
    if "cv_warn" in before.get("runtime", {}):
        raise UserError(f"{path} already sets [runtime] cv_warn; this check adds it")
    changed = re.sub(r"^\[runtime\]\s*$", "[runtime]\ncv_warn = 0.45  # changed by tools/timing.py", text,
                     count=1, flags=re.M)
    after = tomllib.loads(changed)
    assert {k: v for k, v in after.items() if k != "runtime"} == {k: v for k, v in before.items() if k != "runtime"}
    assert after["runtime"].get("cv_warn") == 0.45
    path.write_text(changed)


def check(name: str, ok: bool, detail: str) -> dict:
    return {"check": name, "ok": ok, "detail": detail}


def checks_of(runs: dict[str, Timed]) -> list[dict]:
    out = []

    def figures(t: Timed) -> str:
        return f"{t.wall_s:.0f} s wall, {t.cpu_s:.0f} s CPU, load {t.load_before} -> {t.load_after}, exit {t.code}"
    if "pipeline" in runs:
        t = runs["pipeline"]
        out.append(check(f"fresh clone: make pipeline <= {PIPELINE_S:.0f} s", t.code == 0 and t.wall_s <= PIPELINE_S,
                         figures(t)))
    if "again" in runs:
        t = runs["again"]
        skipped = [s for s in STAGES if t.stages.get(s, {}).get("verdict") == "skipped"]
        out.append(check(f"nothing changed: make pipeline <= {AGAIN_S:.0f} s", t.code == 0 and t.wall_s <= AGAIN_S,
                         figures(t)))
        out.append(check("nothing changed: every stage says it was skipped", skipped == list(STAGES),
                         f"skipped: {skipped}; lines: {t.stages}"))
    if "runtime" in runs:
        t = runs["runtime"]
        verdicts = {s: t.stages.get(s, {}).get("verdict") for s in STAGES}
        want = {"train": "skipped", "export": "skipped", "embed": "skipped", "browser": "skipped", "report": "running"}
        out.append(check("only [runtime] changed: only the report runs", t.code == 0 and verdicts == want,
                         f"{verdicts}; {figures(t)}"))
    if "test" in runs:
        t = runs["test"]
        out.append(check(f"fresh clone: make test <= {TEST_S:.0f} s", t.code == 0 and t.wall_s <= TEST_S, figures(t)))
    return out


@dataclasses.dataclass(frozen=True)
class TimingConfig:
    out_dir: Path = option(Path("reports/timing"), "where timing.json and the commands' logs go")
    where: Path = option(ROOT.parent, "folder for the fresh clones (beside this checkout, so ../shared resolves)")
    test: bool = option(False, "also time `make test` on a fresh clone (~minutes more)")
    pipeline: bool = option(True, "time `make pipeline` on a fresh clone, then again, then with [runtime] changed")
    keep: bool = option(False, "keep the clones (default: deleted when done)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.timing", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_flags(parser, TimingConfig, config_file=False)
    cfg = config_from_args(TimingConfig, "timing", parser.parse_args(argv))
    out = ensure_writable_dir(cfg.out_dir, "timing").resolve()
    scratch = Path(tempfile.mkdtemp(dir=cfg.where, prefix=f"{ROOT.name}-timing-"))
    mnist = ["MNIST_GZ_DIR=" + str((ROOT / "../shared/data/mnist").resolve())]
    runs: dict[str, Timed] = {}
    try:
        if cfg.pipeline:
            clone = fresh_clone(scratch, "pipeline")
            runs["pipeline"] = run_timed(["make", "pipeline", *mnist], clone, out / "pipeline.log")
            runs["again"] = run_timed(["make", "pipeline", *mnist], clone, out / "again.log")
            change_only_runtime(clone)
            runs["runtime"] = run_timed(["make", "pipeline", *mnist], clone, out / "runtime.log")
        if cfg.test:
            runs["test"] = run_timed(["make", "test", *mnist], fresh_clone(scratch, "test"), out / "test.log")
    finally:
        if not cfg.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    checks = checks_of(runs)
    atomic_write_json(out / "timing.json", {"commit": subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT,
                                                                     capture_output=True, text=True).stdout.strip(),
                                            "cores": os.cpu_count(), "runs": {k: dataclasses.asdict(v)
                                                                              for k, v in runs.items()},
                                            "checks": checks})
    for c in checks:
        print(f"{'PASS' if c['ok'] else 'FAIL'}  {c['check']:<52} {c['detail']}")
    print(f"timing: {sum(c['ok'] for c in checks)} of {len(checks)} goals met -> {out / 'timing.json'}")
    return 0 if all(c["ok"] for c in checks) else 1


if __name__ == "__main__":
    sys.exit(run_cli(main))
