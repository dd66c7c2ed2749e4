"""Small file helpers shared by every stage: atomic writes and content hashes.

Every stage writes through `atomic_write` so a crash or Ctrl-C never leaves a
half-written file under its final name (the temp file lives in the same folder,
so the final `os.replace` is a rename on one filesystem, which POSIX makes atomic).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from common.errors import UserError


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks so large artifacts never sit in memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def ensure_writable_dir(path: Path, what: str) -> Path:
    """Create `path` if needed and prove we can write there, before any work is spent."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".probe-"):
            pass
    except OSError as e:
        raise UserError(f"cannot write the {what} folder {path} ({e.strerror}); "
                        f"choose another folder or fix its permissions") from e
    return path


def check_free_space(folder: Path, needed: int, what: str) -> None:
    """Refuse, before any work, to start writing `needed` bytes (an upper estimate of what the
    command writes there) into `folder` on a disk that has less free. `folder` may not exist yet:
    its nearest existing parent is on the same disk until something is mounted in between."""
    probe = Path(folder).absolute()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if free < needed:
        raise UserError(f"{what} needs about {_mib(needed)} free in {folder}, but its disk has {_mib(free)}; "
                        f"free space or choose a folder on another disk")


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


@contextlib.contextmanager
def atomic_write(path: Path, mode: str = "wb") -> Iterator:
    """Open a temp file beside `path`; rename it over `path` only if the block succeeds."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_json(path: Path, data: object) -> None:
    with atomic_write(path, "w") as f:
        json.dump(data, f, indent=2, sort_keys=False)
        f.write("\n")


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Like atomic_write, for libraries that insist on writing to a path themselves
    (torch.save to a name, onnx.save, ...): yields a temp path beside `path`."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp" + path.suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
