"""The arm64 target's emulated processes: qemu-user running native/arm64's runners, two at a time.

Emulated floating point is the whole cost (qemu's TCG does every float multiply-add in a helper
call: ~90 s of CPU for one fp32 artifact's 10k images), so the work is cut in two kinds of job:
  logits: one artifact's logits on one named set of test images (all of them, or a subset and
          the rest), no counting. Each worker keeps one runner process per format and image set
          and feeds it artifacts on stdin.
  count:  one artifact's instruction counts, in a fresh process of its own, on the first
          images only. Which artifacts a process ran before moves ONNX Runtime's counts (its
          allocator's state), so each count comes from a process whose history is the same in
          every run, whatever the queue did. The runners are native, so a process starts in
          well under a second.
`run_jobs` gives the jobs to two workers (this machine's two cores) from one queue, by priority
and then costliest first, and hands each result back to the caller as it comes, whose answer
(more jobs: the rest of the test set for the artifact the recommendation is about to pick) joins
the same queue at once: a worker waits only for the queue, never for the other worker.
Every process is started through one common.children group: when the report is interrupted
(Ctrl-C, SIGTERM), run_jobs ends them and waits for its workers before its temp folder is removed.
"""
from __future__ import annotations

import dataclasses
import itertools
import json
import math
import queue
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Callable

import numpy as np
from tqdm import tqdm

from common.children import Children

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "arm64"  # written by `make arm64` (native/arm64/setup.sh)
# A named core: qemu 7.2's `max` CPU computes int8 wrong (its SME emulation; top-1 agreement 0.44
# measured), Cortex-A76 (ARMv8.2 with dot-product, the big core of many 2019-2022 phones) is correct
# and bit-identical with qemu 10. native/arm64/cpuinfo describes the same core to the guest.
CPU = "cortex-a76"
COUNT_BATCHES = (1, 32)  # run_on_arm's default; the report counts at RuntimeConfig.arm64_count_batches
REPEATS = 5            # counted calls per batch size (after the runners' own warm-up calls)
WORKERS = 2            # emulations at a time: qemu runs a guest thread on one host core
TIMEOUT_S = 1200       # one model in one runner process
MALLOC_TUNABLES = ("glibc.malloc.mmap_threshold=1073741824:glibc.malloc.trim_threshold=1073741824:"
                   "glibc.malloc.top_pad=268435456")  # bytes: 1 GiB, 1 GiB, 256 MiB
# Emulated cost per byte of artifact file, only to start the longest jobs first (a wrong guess
# costs balance at the end, never a result): float weights take 4 bytes and one software float
# multiply-add each; portable int8 dequantizes and runs float kernels (1 byte, same float work);
# XNNPACK's and ONNX Runtime's int8 kernels are integer SIMD, ~10x cheaper to emulate (measured:
# XNNPACK int8 ~8 s of CPU for 10k images against ~90 s for fp32 of the same weights).
COST_PER_BYTE = {"fp32": 0.25, "portable-int8": 1.0, "int8": 0.1}


@dataclasses.dataclass(frozen=True)
class ArmResult:
    """One artifact's run on ARM: its logits for every image, and guest instructions per marked call."""
    logits: np.ndarray | None
    error: str | None
    markers: dict[int, list[int]]   # batch -> counts of empty marker pairs (the markers' own cost)
    calls: dict[int, list[int]]     # batch -> counts of marked runtime calls


@dataclasses.dataclass(frozen=True)
class Model:
    """One artifact to run: its verified file, its format ("onnx" | "executorch") and its cost guess."""
    name: str
    path: Path
    fmt: str
    cost: float


def runner_name(fmt: str) -> str:
    return "ort_runner" if fmt == "onnx" else "pte_runner"


def runner_command(fmt: str, images: Path, batch: int, count_batches: tuple[int, ...], counts: Path | None,
                   pairs: list[tuple[Path, Path]], cache: Path = CACHE, program: Path | None = None) -> list[str]:
    """qemu-aarch64 running the runner of `fmt` (`program`, else the one in the cache); with the
    counting plugin when `counts` is a file for it; the (model, logits) pairs as arguments, or
    none: the runner then reads them on stdin."""
    # The guest's stack starts with its environment and arguments, and their length moves the
    # alignment of stack buffers, which moves MLAS's and XNNPACK's counts (a 78-byte variable moved
    # one ONNX count by 0.4%): env -i gives every run the same, empty environment, and a count
    # runs with the same relative paths wherever the checkout is (run_on_arm). setarch -R: no
    # address randomization.
    # GLIBC_TUNABLES: fixed malloc thresholds; glibc's own move with the sizes freed (mmap threshold)
    # and the heap's top (trimming), and moved ONNX Runtime's batch-32 counts by up to 3%.
    # ORT_DISABLE_TELEMETRY: ONNX Runtime (>= 1.29 on Linux) otherwise starts a telemetry thread that
    # wakes on a timer; the plugin counts every thread, so a wake inside a counted call adds ~200
    # instructions to that call alone (seen on a loaded host), and the uploader has nothing to do here.
    cache = cache.resolve()  # the command may run in another folder (run_on_arm)
    qemu = ["env", "-i", "setarch", "x86_64", "-R", "qemu-aarch64", "-cpu", CPU, "-L", str(cache / "rootfs"),
            "-E", f"GLIBC_TUNABLES={MALLOC_TUNABLES}", "-E", "ORT_DISABLE_TELEMETRY=1"]
    if counts is not None:
        qemu += ["-plugin", f"{cache / 'bin' / 'insn_count.so'},out={counts}"]
    qemu += [str(program or cache / "bin" / runner_name(fmt))]
    args = [str(images), str(batch), ",".join(map(str, count_batches)), str(REPEATS)]
    return qemu + args + [str(p) for pair in pairs for p in pair]


def split_counts(counts: list[int], count_batches: tuple[int, ...]):
    """A model's plugin lines -> (markers, calls) per batch. The runners mark, per batch, W + REPEATS
    empty pairs then W + REPEATS calls, W being their warm-up; the last REPEATS of each are kept."""
    markers, calls = {}, {}
    if not count_batches or not counts or len(counts) % (2 * len(count_batches)):
        return markers, calls
    chunk = len(counts) // len(count_batches)
    for i, b in enumerate(count_batches):
        empty, called = counts[chunk * i:chunk * i + chunk // 2], counts[chunk * i + chunk // 2:chunk * (i + 1)]
        markers[b], calls[b] = empty[-REPEATS:], called[-REPEATS:]
    return markers, calls


def run_on_arm(fmt: str, models: list[Path], images: np.ndarray, count_batches: tuple[int, ...] = COUNT_BATCHES,
               batch: int = 256, cache: Path = CACHE, children: Children | None = None) -> list[ArmResult]:
    """All `models` (one format) through one fresh emulated runner process, in order, counted at
    `count_batches`; one result per model. The process belongs to `children` (a group of its own by default)."""
    with tempfile.TemporaryDirectory(prefix="arm64-") as tmp:
        tmp = Path(tmp)
        np.ascontiguousarray(images, dtype=np.float32).tofile(tmp / "images.f32")
        # Everything under names relative to `tmp`, the runner included (a link): the guest's stack
        # holds the same strings wherever the cache, the manifest and the temp folder live.
        (tmp / "runner").symlink_to((cache / "bin" / runner_name(fmt)).resolve())
        pairs = []
        for i, model in enumerate(models):
            shutil.copyfile(model, tmp / f"{i:03d}{model.suffix}")
            pairs.append((Path(f"{i:03d}{model.suffix}"), Path(f"{i:03d}.logits")))
        command = runner_command(fmt, Path("images.f32"), batch, count_batches, Path("counts.txt"), pairs, cache,
                                 program=Path("./runner"))
        try:
            done = (children or Children()).run(command, cwd=tmp, timeout=TIMEOUT_S * max(1, len(models)))
            died = None if done.returncode == 0 else (done.stderr.strip().splitlines() or ["no output"])[-1]
            lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        except subprocess.TimeoutExpired:
            died, lines = "the runner did not finish in time", []
        counts_path = tmp / "counts.txt"
        counts = [int(c) for c in counts_path.read_text().split()] if counts_path.exists() else []
        results = []
        for i, (_, logits_name) in enumerate(pairs):
            logits_path = tmp / logits_name
            line = lines[i] if i < len(lines) else {"error": f"runner exited before this model: {died}", "intervals": 0}
            markers, calls = split_counts(counts[:line["intervals"]], count_batches) if line["error"] is None else ({}, {})
            counts = counts[line["intervals"]:]
            ok = line["error"] is None and logits_path.exists()
            logits = np.fromfile(logits_path, dtype=np.float32).reshape(len(images), -1) if ok else None
            results.append(ArmResult(logits=logits, error=line["error"], markers=markers, calls=calls))
        return results


class Server:
    """One runner process of one format, fed one model at a time on stdin; restarted after a crash."""

    def __init__(self, fmt: str, images: Path, batch: int, tmp: Path, cache: Path,
                 children: Children | None = None):
        self.command = runner_command(fmt, images, batch, (), None, [], cache)
        self.children = children or Children()
        self.stderr_path = tmp / f"{fmt}-{Path(images).stem}-{threading.get_ident()}.stderr"
        self.process: subprocess.Popen | None = None

    def run(self, model: Path, logits: Path) -> str | None:
        """Logits of every image written to `logits`; None, or why not."""
        if self.process is None or self.process.poll() is not None:
            with open(self.stderr_path, "w") as stderr:  # runtime logs: a pipe nobody reads would fill up
                self.process = self.children.popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                                   stderr=stderr, text=True)
        watchdog = threading.Timer(TIMEOUT_S, self.process.kill)
        watchdog.start()
        try:
            self.process.stdin.write(f"{model}\t{logits}\n")
            self.process.stdin.flush()
            line = self.process.stdout.readline()
        except BrokenPipeError:
            line = ""
        finally:
            watchdog.cancel()
        if not line.startswith("{"):
            self.process.kill()
            self.process.wait()
            why = (self.stderr_path.read_text().strip().splitlines() or ["no output"])[-1]
            return f"runner exited (code {self.process.returncode}): {why}"
        return json.loads(line)["error"]

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait()


@dataclasses.dataclass(frozen=True)
class Job:
    """One emulated run: an artifact's counts, or its logits on one named set of test images."""
    kind: str             # "count" | "logits"
    model: Model
    images: str = "all"   # logits: a key of run_jobs' image_sets
    priority: int = 2     # lower first: counts (cheap, and the ranking waits on them), then what a
    #                       decision waits on, then the rest


def images_per_count(count_batches: tuple[int, ...]) -> int:
    """Images one count process runs: 3 uncounted, 10 warm-up and REPEATS counted calls per batch
    size, after one pass over the first images."""
    return (3 + 10 + REPEATS) * sum(count_batches) + max(count_batches, default=1)


def job_cost(job: Job, sizes: dict[str, int], full: int, count_batches: tuple[int, ...] = COUNT_BATCHES) -> float:
    """The job's emulated cost in the units of Model.cost (one pass over `full` images)."""
    images = images_per_count(count_batches) if job.kind == "count" else sizes[job.images]
    return job.model.cost * images / full


def run_jobs(first: list[Job], image_sets: dict[str, np.ndarray], batch: int,
             then: Callable[[Job, ArmResult], list[Job]], cache: Path = CACHE,
             count_batches: tuple[int, ...] = COUNT_BATCHES) -> None:
    """Run `first`, and every job `then` returns, WORKERS emulations at a time. `then(job, result)`
    runs in this thread as each job finishes (a count: markers and calls; logits: the logits of
    the job's image set, or the error); its jobs join the queue at once. `batch`: images per call
    of a logits job. Counts run at `count_batches` on the first images of image_sets["all"]."""
    sizes = {name: len(images) for name, images in image_sets.items()}
    full = max(sizes.values())

    def cost(job: Job) -> float:
        return job_cost(job, sizes, full, count_batches)
    work: queue.PriorityQueue = queue.PriorityQueue()
    done: queue.Queue = queue.Queue()
    order = itertools.count()  # ties keep the order they came in, and Jobs are never compared

    def put(job: Job | None) -> None:
        work.put((math.inf, 0.0, next(order), None) if job is None else
                 (job.priority, -cost(job), next(order), job))
    with tempfile.TemporaryDirectory(prefix="arm64-") as tmp:
        files = {}
        for name, images in image_sets.items():
            files[name] = Path(tmp) / f"{name}.f32"
            np.ascontiguousarray(images, dtype=np.float32).tofile(files[name])
        children = Children()  # every emulation of the workers
        worker = Worker(work, done, files, sizes, image_sets["all"][:max(count_batches, default=1)], count_batches,
                        batch, Path(tmp), cache, children)
        threads = [threading.Thread(target=worker.run) for _ in range(WORKERS)]
        for t in threads:
            t.start()
        # one bar, advanced by each job's estimated cost, so its ETA weighs a 10k-image fp32 pass
        # against a count of an int8 artifact as the emulator does
        bar = tqdm(total=0.0, desc="arm64 emulation", mininterval=0.5,
                   bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}] {postfix}")
        try:
            for job in first:
                put(job)
                bar.total += cost(job)
            pending, finished = len(first), 0
            while pending:
                job, result = done.get()
                if isinstance(result, BaseException):  # a bug here must stop the report, not lose rows
                    raise result
                pending, finished = pending - 1, finished + 1
                for more in then(job, result):
                    put(more)
                    pending, bar.total = pending + 1, bar.total + cost(more)
                bar.set_postfix_str(f"{finished}/{finished + pending} runs, last: {job.kind} {job.model.name}",
                                    refresh=False)
                bar.update(cost(job))
        except BaseException:  # Ctrl-C, SIGTERM or a bug: no emulation may outlive the report or its temp folder
            children.end()
            raise
        finally:
            bar.close()
            while not work.empty():  # after a failure: start nothing more
                work.get_nowait()
            for _ in threads:
                put(None)
            for t in threads:
                t.join()


@dataclasses.dataclass
class Worker:
    """What every worker thread shares: the queues, the image files, the folder."""
    work: queue.PriorityQueue
    done: queue.Queue
    files: dict[str, Path]
    sizes: dict[str, int]
    count_images: np.ndarray
    count_batches: tuple[int, ...]
    batch: int
    tmp: Path
    cache: Path
    children: Children

    def run(self) -> None:
        """Jobs until the queue hands this worker None, through its own runner processes."""
        servers: dict[tuple[str, str], Server] = {}
        try:
            while True:
                job = self.work.get()[-1]
                if job is None:
                    return
                try:
                    self.done.put((job, self.one(job, servers)))
                except BaseException as e:
                    self.done.put((job, e))
                    return
        finally:
            for server in servers.values():
                server.close()

    def one(self, job: Job, servers: dict[tuple[str, str], Server]) -> ArmResult:
        model = job.model
        if job.kind == "count":
            return run_on_arm(model.fmt, [model.path], self.count_images, self.count_batches, batch=self.batch,
                              cache=self.cache, children=self.children)[0]
        key = (model.fmt, job.images)
        server = servers.setdefault(key, Server(model.fmt, self.files[job.images], self.batch, self.tmp, self.cache,
                                                   self.children))
        logits_path = self.tmp / f"{model.name}.{job.images}.logits"
        error = server.run(model.path, logits_path)
        logits = None if error else np.fromfile(logits_path, dtype=np.float32).reshape(self.sizes[job.images], -1)
        return ArmResult(logits=logits, error=error, markers={}, calls={})
