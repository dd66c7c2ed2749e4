"""`python -m tools.pte_info FILE.pte ...`: what an ExecuTorch runtime needs in order to load a .pte.

For each file, one JSON line: the flatbuffer file identifier (the .pte schema generation, e.g.
ET12), the program's schema version, the backends its delegates need, and the operators it calls
outside them. mobile_demo/android/README.md ("Versions") uses it to show that the exporter's
files fit the app's executorch-android: a runtime reads a file whose identifier and version it
knows, when it links every listed backend and operator.
"""
from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from common.errors import UserError, run_cli


def describe(path: Path) -> dict:
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path} is a folder; pass the .pte files in it (e.g. {path}/*.pte)")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"{path} not found; pass an existing .pte file (python -m export writes them)") from None
    except OSError as e:
        raise UserError(f"{path} cannot be read ({e.strerror}); fix its permissions") from None
    if len(data) < 8:
        raise UserError(f"{path} is {len(data)} bytes, not a .pte file; re-export it")
    # Heavy, so only for a real file. Importing it logs torch's notice that torchao registers an Enum
    # the old way: a line about our dependencies, not the user's file, so it is kept off stderr.
    pytree_log = logging.getLogger("torch.utils._pytree")
    level = pytree_log.level
    pytree_log.setLevel(logging.ERROR)
    try:
        from executorch.exir._serialize._program import deserialize_pte_binary
    finally:
        pytree_log.setLevel(level)
    try:
        program = deserialize_pte_binary(data).program
    except Exception as e:  # the flatbuffer reader raises many kinds; all mean "not a readable .pte"
        raise UserError(f"{path} is not a readable .pte ({type(e).__name__}: {e}); re-export it") from None
    operators, backends = set(), set()
    for plan in program.execution_plan:
        operators |= {f"{op.name}.{op.overload}" if op.overload else op.name for op in plan.operators}
        backends |= {d.id for d in plan.delegates}
    return {"file": Path(path).name, "file_identifier": data[4:8].decode("ascii", "replace"),
            "schema_version": program.version, "backends": sorted(backends), "operators": sorted(operators)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.pte_info", description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path, help=".pte files to describe")
    for path in parser.parse_args(argv).files:
        print(json.dumps(describe(path)))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
