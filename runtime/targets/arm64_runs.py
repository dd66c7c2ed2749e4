"""The arm64 target's emulated processes: qemu-user running native/arm64's runners, two at a time.

Emulated floating point is the whole cost (qemu's TCG does every float multiply-add in a helper
call: ~90 s of CPU for one fp32 artifact's 10k images), so the work is cut in two kinds of job:
  accuracy: one artifact's 10k-image pass, no counting. Two workers (this machine's two cores)
            take them longest first from one queue; each worker keeps one runner process per
            format and feeds it artifacts on stdin.
  count:    one artifact's instruction counts, in a fresh process of its own, on the first
            images only. Which artifacts a process ran before moves ONNX Runtime's counts (its
            allocator's state), so each count comes from a process whose history is the same in
            every run, whatever the queue did. The runners are native, so a process starts in
            well under a second.
Every process is started through the pool's common.children group: when the report is
interrupted (Ctrl-C, SIGTERM), run_all ends them and waits for its workers before its temp
folder is removed.
"""
from __future__ import annotations

import dataclasses
import json
import queue
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import numpy as np

from common.children import Children

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "arm64"  # written by `make arm64` (native/arm64/setup.sh)
# A named core: qemu 7.2's `max` CPU computes int8 wrong (its SME emulation; top-1 agreement 0.44
# measured), Cortex-A76 (ARMv8.2 with dot-product, the big core of many 2019-2022 phones) is correct
# and bit-identical with qemu 10. native/arm64/cpuinfo describes the same core to the guest.
CPU = "cortex-a76"
COUNT_BATCHES = (1, 32)
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
    cache = cache.resolve()  # the command may run in another folder (run_on_arm)
    qemu = ["env", "-i", "setarch", "x86_64", "-R", "qemu-aarch64", "-cpu", CPU, "-L", str(cache / "rootfs"),
            "-E", f"GLIBC_TUNABLES={MALLOC_TUNABLES}"]
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
        self.stderr_path = tmp / f"{fmt}-{threading.get_ident()}.stderr"
        self.children = children or Children()
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


def work_order(models: list[Model], n_images: int) -> list[tuple[str, Model]]:
    """("accuracy", model) and ("count", model) for every model, costliest first."""
    # the images one model runs in a count process (3 untimed, 10 warm-up and REPEATS counted calls
    # per batch size, after one pass over the first images), against the n_images of its accuracy job
    share = ((3 + 10 + REPEATS) * sum(COUNT_BATCHES) + max(COUNT_BATCHES)) / n_images
    jobs = [(m.cost, ("accuracy", m)) for m in models] + [(share * m.cost, ("count", m)) for m in models]
    return [job for _, job in sorted(jobs, key=lambda j: -j[0])]


def run_all(models: list[Model], images: np.ndarray, batch: int, cache: Path = CACHE) -> dict[str, ArmResult]:
    """Every model's accuracy pass (`batch` images per call) and counts, WORKERS emulations at a time."""
    with tempfile.TemporaryDirectory(prefix="arm64-") as tmp:
        pool = Pool(models, images, batch, Path(tmp), cache)
        threads = [threading.Thread(target=pool.worker) for _ in range(WORKERS)]
        for t in threads:
            t.start()
        try:
            for t in threads:
                t.join()
        except BaseException:  # Ctrl-C or SIGTERM: no emulation may outlive the report or its temp folder
            pool.stop()
            for t in threads:
                t.join()
            raise
        if pool.crashed:
            raise pool.crashed[0]
        return {m.name: merge(pool.errors[m.name], pool.logits_path(m), pool.counted[m.name], len(images))
                for m in models}


class Pool:
    """The shared state of the workers: one queue of jobs, their results, the images file."""

    def __init__(self, models: list[Model], images: np.ndarray, batch: int, tmp: Path, cache: Path):
        self.models, self.images, self.batch, self.tmp, self.cache = models, images, batch, tmp, cache
        self.images_path = tmp / "images.f32"
        np.ascontiguousarray(images, dtype=np.float32).tofile(self.images_path)
        self.work: queue.Queue = queue.Queue()
        for job in work_order(models, len(images)):
            self.work.put(job)
        self.errors: dict[str, str | None] = {}     # model -> its accuracy pass's error
        self.counted: dict[str, ArmResult] = {}     # model -> its counts
        self.crashed: list[BaseException] = []
        self.children = Children()                  # every runner process of the workers

    def stop(self) -> None:
        """Take the queued jobs away and kill the running emulations: each worker then ends its job
        at once (its process gone) and finds nothing left to do."""
        while True:
            try:
                self.work.get_nowait()
            except queue.Empty:
                break
        self.children.end()

    def logits_path(self, model: Model) -> Path:
        return self.tmp / f"{model.name}.logits"

    def worker(self) -> None:
        """Jobs until the queue is empty, through this worker's own runner processes."""
        servers: dict[str, Server] = {}
        try:
            while True:
                try:
                    kind, item = self.work.get_nowait()
                except queue.Empty:
                    return
                if kind == "count":
                    self.counted[item.name], = run_on_arm(item.fmt, [item.path], self.images[:max(COUNT_BATCHES)],
                                                          batch=self.batch, cache=self.cache, children=self.children)
                else:
                    server = servers.setdefault(item.fmt, Server(item.fmt, self.images_path, self.batch,
                                                                 self.tmp, self.cache, self.children))
                    self.errors[item.name] = server.run(item.path, self.logits_path(item))
        except BaseException as e:  # re-raised by run_all: a bug here must stop the report, not lose rows
            self.crashed.append(e)
        finally:
            for server in servers.values():
                server.close()


def merge(error: str | None, logits_path: Path, counted: ArmResult, n: int) -> ArmResult:
    """One artifact's result from its accuracy pass and its count; either one's error fails it."""
    error = error or (f"while counting: {counted.error}" if counted.error else None)
    logits = np.fromfile(logits_path, dtype=np.float32).reshape(n, -1) if error is None else None
    return ArmResult(logits=logits, error=error, markers=counted.markers, calls=counted.calls)
