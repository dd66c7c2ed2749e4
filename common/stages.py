"""Stages that skip what is already done: one record per stage of what its output was made from.

A stage (train, export, embed, the browser benchmark, the report) states its inputs as one JSON
value: its config section after flags, the sha256 of the files it reads (the data, the upstream
checkpoint or manifest), its own code, the versions of the libraries it runs. After a successful
run has published its output, `Stage.done` writes a record beside that output: the inputs and
the sha256 of every output file, written last and atomically (common.files). A stage that was
killed or failed writes no record, and the record of an earlier run no longer matches an output
that was replaced since, so an unfinished or failed run never counts as done.

`Stage.check` compares the record with the inputs now and the output files on disk: the same
inputs and every output file as recorded -> skipped, with one line saying what it was made from;
anything else -> it runs, with one line saying why (no record, a record that cannot be read,
which input changed, which output file was edited or removed). `force` always runs.

A lock beside the record is held for a whole run (`exclusive`), so two runs of one stage in one
folder never interleave: the second waits, says so in one line, then finds the first one's
record and skips. Every stage's command uses it the same way:

    with stages.running("train", cfg.checkpoint_path, lambda: stage_inputs(cfg), args.force) as stage:
        if stage is None:   # skipped: its line is printed
            return 0
        ...run, publish...
        stage.done([cfg.checkpoint_path, cfg.metrics_path])
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime
import fcntl
import hashlib
import importlib.metadata
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from common.errors import UserError
from common.files import atomic_write_json, sha256_file

SCHEMA = "stage-record/1"
ROOT = Path(__file__).resolve().parents[1]
SHOWN_CHANGES = 3  # input differences named in the "running" line; the rest are counted


@dataclasses.dataclass(frozen=True)
class Decision:
    skip: bool
    line: str  # one line for the user: "<stage>: skipped: ..." or "<stage>: running: ..."


@dataclasses.dataclass(frozen=True)
class Stage:
    name: str                # train, export, embed, browser, report
    record: Path             # the record file, beside the stage's output
    inputs: dict[str, Any]   # JSON values only: what the output is a function of

    def check(self, force: bool = False) -> Decision:
        """Whether the last recorded run made the current output from these same inputs."""
        if force:
            return self._run("--force given")
        if not self.record.exists():
            return self._run(f"no record of an earlier run ({self.record})")
        try:
            old = read_record(self.record)
        except ValueError as e:
            return self._run(f"its record {self.record} cannot be read ({e}); not trusting it")
        changed = differences(old["inputs"], self.inputs)
        if changed:
            more = f" and {len(changed) - SHOWN_CHANGES} more" if len(changed) > SHOWN_CHANGES else ""
            return self._run("changed since the last run: " + "; ".join(changed[:SHOWN_CHANGES]) + more)
        edited = output_problem(self.record.parent, old["outputs"])
        if edited:
            return self._run(f"{edited} since the last run; not trusting that output")
        made_from = ", ".join(self.inputs)
        return Decision(True, f"{self.name}: skipped: its output was made from the same inputs ({made_from}) "
                              f"at {old['finished_utc']} and is unchanged (record {self.record}); --force reruns")

    def _run(self, why: str) -> Decision:
        return Decision(False, f"{self.name}: running: {why}")

    def done(self, outputs: Iterable[Path]) -> None:
        """Record a successful run: call after its output is published, never after a failure."""
        files = {}
        for path in outputs:
            for f in walk(Path(path)):
                files[os.path.relpath(f, self.record.parent)] = sha256_file(f)
        atomic_write_json(self.record, {"schema": SCHEMA, "stage": self.name, "finished_utc": _now(),
                                        "inputs": self.inputs, "outputs": files})


@contextlib.contextmanager
def running(name: str, output: Path, inputs: Callable[[], dict[str, Any]], force: bool) -> Iterator[Stage | None]:
    """The stage that makes `output`, locked for the whole block: its line printed, then the Stage to
    run (call .done(outputs) once they are published), or None when it is skipped. `inputs` is
    called inside the lock, so a run that waited sees what the one before it wrote."""
    record = record_beside(output)
    with exclusive(record, name):
        stage = Stage(name, record, inputs())
        decision = stage.check(force)
        print(decision.line, flush=True)
        yield None if decision.skip else stage


def record_beside(output: Path) -> Path:
    """Where the record of the stage that makes `output` lives: `.<name>.stage.json` beside it."""
    output = Path(output)
    return output.parent / f".{output.name}.stage.json"


@contextlib.contextmanager
def exclusive(record: Path, name: str) -> Iterator[None]:
    """Hold `<record>.lock` for a whole run of a stage: a second run of it in this folder waits,
    with one line saying so, and then finds the first one's record (and skips)."""
    lock = record.with_name(record.name + ".lock")
    try:
        record.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o644)
    except OSError as e:
        raise UserError(f"cannot write the {name} stage's record beside its output, in {record.parent} "
                        f"({e.strerror}); choose another folder or fix its permissions") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            print(f"{name}: waiting for another run of this stage in this folder (pid {holder}, lock {lock}) "
                  f"to finish", file=sys.stderr, flush=True)
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)  # named by the next waiter's line
        yield
    finally:
        os.close(fd)  # closing drops the lock; the kernel drops it too when the process dies


def read_record(path: Path) -> dict[str, Any]:
    """A record, checked for the keys `check` reads; ValueError saying what is wrong otherwise."""
    try:
        record = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError) as e:  # ValueError: bad JSON or not UTF-8
        raise ValueError(f"{type(e).__name__}: {str(e)[:80]}") from None
    if not isinstance(record, dict) or record.get("schema") != SCHEMA:
        raise ValueError(f"not a {SCHEMA} record")
    kinds = {"inputs": dict, "outputs": dict, "finished_utc": str}
    wrong = [k for k, kind in kinds.items() if not isinstance(record.get(k), kind)]
    if wrong or not all(isinstance(v, str) for v in record["outputs"].values()):
        raise ValueError(f"missing or mistyped {wrong or ['outputs']}")
    return record


def differences(old: Any, new: Any, where: str = "") -> list[str]:
    """Each leaf that differs between two JSON values, as "key: old -> new" (dotted keys)."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new), key=str):
            name = f"{where}.{key}" if where else str(key)
            if key not in old or key not in new:
                out.append(f"{name}: {_short(old.get(key, '(absent)'))} -> {_short(new.get(key, '(absent)'))}")
            else:
                out += differences(old[key], new[key], name)
        return out
    return [] if old == new else [f"{where or 'inputs'}: {_short(old)} -> {_short(new)}"]


def output_problem(folder: Path, recorded: dict[str, str]) -> str | None:
    """What is wrong with a recorded output now (removed, or edited: its sha256 differs), or None."""
    for relative, sha256 in recorded.items():
        path = folder / relative
        if not path.is_file():
            return f"its output {path} was removed"
        if sha256_file(path) != sha256:
            return f"its output {path} was changed (sha256 differs from the record)"
    return None


def walk(path: Path) -> list[Path]:
    """The files of an output: the file itself, or every file under a folder (links followed)."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file())
    return [path]


def files(paths: Iterable[Path]) -> dict[str, str]:
    """{path: sha256} of input files (folders walked); a missing one is recorded as missing."""
    out = {}
    for path in paths:
        found = walk(Path(path)) if Path(path).exists() else []
        out.update({str(f): sha256_file(f) for f in found} or {str(path): "missing"})
    return out


def code(*packages: str) -> str:
    """One sha256 over every file of these packages of this checkout (e.g. "train", "common"):
    a stage whose code changed runs again. ~100 small files: a few milliseconds."""
    digest = hashlib.sha256()
    for package in packages:
        for f in walk(ROOT / package):
            if "__pycache__" not in f.parts:
                digest.update(str(f.relative_to(ROOT)).encode() + b"\0" + f.read_bytes() + b"\0")
    return digest.hexdigest()


def versions(*dists: str) -> dict[str, str]:
    """Installed versions of these distributions (and Python's), "not installed" for absent ones."""
    out = {"python": sys.version.split()[0]}
    for name in dists:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    if isinstance(value, str) and len(value) == 64:  # a sha256
        return value[:12] + "..."
    return text if len(text) <= 40 else text[:37] + "..."


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
