"""Broken copies of the embedded assets, for the Robolectric tests of bad input (check.sh test).

    python3 asset_variants.py ASSETS OUT

Writes OUT/<variant>/ (a copy of ASSETS with one kind of damage) and OUT/variants.json, which
names the damaged artifacts, for MainActivityBadAssetsTest:
  broken       the first ONNX artifact truncated, its manifest sha256 updated (so it reaches
               onnxruntime); the first ExecuTorch artifact's file missing; the last ExecuTorch
               artifact with one byte changed (its sha256 no longer matches); the last ONNX
               artifact untouched, so one row still runs;
  other-shape  manifest.json's input is 4 pixels wider and taller than every artifact's;
  no-manifest  manifest.json missing.
Needs the default embed's 2 ONNX and 2 ExecuTorch artifacts. Standard library only.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path


def _rows(manifest: dict, fmt: str) -> list[dict]:
    return [a for a in manifest["artifacts"] if a.get("status") == "ok" and a["format"] == fmt]


def _broken(folder: Path, manifest: dict) -> dict:
    onnx, pte = _rows(manifest, "onnx"), _rows(manifest, "executorch")
    if len(onnx) < 2 or len(pte) < 2:
        sys.exit(f"error: {folder.parent} needs 2 ONNX and 2 ExecuTorch artifacts (the default embed); "
                 f"it has {len(onnx)} and {len(pte)}: run `python -m export.embed`")
    corrupt, missing, tampered = onnx[0], pte[0], pte[-1]
    data = (folder / corrupt["path"]).read_bytes()
    (folder / corrupt["path"]).write_bytes(data[: len(data) // 2])
    corrupt["sha256"] = hashlib.sha256(data[: len(data) // 2]).hexdigest()
    (folder / missing["path"]).unlink()
    data = bytearray((folder / tampered["path"]).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / tampered["path"]).write_bytes(bytes(data))
    return {"corrupt": corrupt["name"], "missing": missing["name"], "tampered": tampered["name"],
            "ok": onnx[-1]["name"]}


def _other_shape(folder: Path, manifest: dict) -> dict:
    shape = manifest["input"]["shape"]
    manifest["input"]["shape"] = shape[:2] + [shape[2] + 4, shape[3] + 4]
    return {"shape": manifest["input"]["shape"]}


def main(assets: Path, out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    described = {}
    for variant, damage in (("broken", _broken), ("other-shape", _other_shape), ("no-manifest", None)):
        folder = out / variant
        shutil.copytree(assets, folder)
        manifest = json.loads((folder / "manifest.json").read_text())
        if damage is None:
            (folder / "manifest.json").unlink()
            described[variant] = {}
            continue
        described[variant] = damage(folder, manifest)
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))
    (out / "variants.json").write_text(json.dumps(described, indent=2))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python3 asset_variants.py ASSETS OUT")
    main(Path(sys.argv[1]), Path(sys.argv[2]))
