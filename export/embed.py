"""Embed chosen artifacts into the mobile demos: `python -m export --embed` (or `python -m export.embed`).

    embed(manifest_path, assets_dir=ANDROID_ASSETS, names=DEFAULT_NAMES, web_dir=WEB_MODELS) -> list[str]

Copies the named artifacts, test_vectors.json and a manifest rewritten to list only those
artifacts (its test_vectors entry carrying the demos' rule for quantized artifacts,
verify.QUANTIZED_CHECK) into the Android app's assets folder, and the ONNX ones (with the same
manifest trimmed to them, and the vectors) into the web demo's models folder. Every file's sha256 is
checked against the manifest before and after the copy; both folders are built first, then each
is replaced in one rename (the first undone if the second fails), so the apps never see a
half-embedded set nor two different sets. Returns the embedded artifact names.

A demo folder is replaced only if embed wrote it (common/owner.py's marker lists its files):
a folder holding anything else, or one folder given for both demos, is refused before any work.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import shutil
import sys
import tempfile
from pathlib import Path

from common import owner, stages
from common.config import add_config_flags, check_fields, config_from_args, option
from common.errors import UserError, run_cli
from common.files import atomic_write_json, check_free_space, ensure_writable_dir, sha256_file
from export.manifest import read, verified_file
from export.verify import QUANTIZED_CHECK
from export.variant import Variant

ROOT = Path(__file__).resolve().parents[1]
ANDROID_ASSETS = ROOT / "mobile_demo" / "android" / "app" / "src" / "main" / "assets"
WEB_MODELS = ROOT / "mobile_demo" / "web" / "models"
# What the phone gets by default: ExecuTorch XNNPACK fp32 and int8, ONNX Runtime fp32 and int8.
DEFAULT_VARIANTS = (
    Variant("executorch", "xnnpack"),
    Variant("executorch", "xnnpack", "int8-static"),
    Variant("onnx", "cpu"),
    Variant("onnx", "cpu", "int8-static"),
)
DEFAULT_NAMES = tuple(v.name for v in DEFAULT_VARIANTS)  # the MLP's
WEB_FORMATS = ("onnx",)  # onnxruntime-web runs ONNX only
OWNER = "export.embed"  # the owner named in the demo folders' marker (common/owner.py)


def default_names(manifest: dict) -> tuple[str, ...]:
    """DEFAULT_VARIANTS of the manifest's model (its name in artifact names: manifest model.stem)."""
    stem = (manifest.get("model") or {}).get("stem", "mlp")
    return tuple(dataclasses.replace(v, model=stem).name for v in DEFAULT_VARIANTS)


def check_targets(assets_dir: Path, web_dir: Path | None) -> None:
    """Before any work: each demo has a folder of its own that embed may replace, on a writable disk.
    One folder for both demos would lose the first demo's files when the second is swapped in."""
    folders = [Path(assets_dir)] + ([Path(web_dir)] if web_dir is not None else [])
    if len(folders) == 2:
        a, w = (f.resolve() for f in folders)
        if a == w or a in w.parents or w in a.parents:
            raise UserError(f"the Android assets folder {assets_dir} and the web models folder {web_dir} overlap; "
                            f"give each demo a folder of its own (embed replaces each folder whole)")
    for folder in folders:
        owner.check_replaceable(folder, OWNER, "embed replaces the whole folder: move those files away or "
                                               "choose an empty or new folder")
        ensure_writable_dir(folder.parent, "demo")


def _copy_checked(src_dir: Path, relative: str, sha256: str, dst: Path) -> None:
    """Copy a manifest file whose path and hash are verified first, then verify the copy."""
    shutil.copyfile(verified_file(src_dir, relative, sha256), dst)
    if sha256_file(dst) != sha256:
        raise UserError(f"copy of {relative} to {dst} is corrupt (sha256 differs); check the disk and retry")


def select(manifest: dict, names: tuple[str, ...], strict: bool) -> list[dict]:
    """The manifest rows for `names`; unknown names are an error listing the valid ones.

    strict=False (the default set) skips artifacts absent, failed or unsupported in this export,
    so a missing int8 build does not block the fp32 demo; an explicit request must exist and be ok."""
    rows = {a["name"]: a for a in manifest.get("artifacts", [])}
    unknown = [n for n in names if n not in rows]
    if unknown and strict:
        raise UserError(f"unknown artifact(s) {unknown}; valid names in the manifest: {sorted(rows)}")
    chosen = []
    for n in names:
        if n not in rows:
            print(f"embed: skipping {n} (not in this export)", file=sys.stderr)
        elif rows[n]["status"] == "ok":
            chosen.append(rows[n])
        elif strict:
            ok = sorted(k for k, a in rows.items() if a["status"] == "ok")
            raise UserError(f"artifact {n} has status {rows[n]['status']} ({rows[n].get('reason')}); "
                            f"embed one that exported ok: {ok}")
        else:
            print(f"embed: skipping {n} ({rows[n]['status']}: {rows[n].get('reason')})", file=sys.stderr)
    if not chosen:
        raise UserError(f"none of {list(names)} exported ok; run `python -m export` and check its report")
    return chosen


def _stage(target: Path, manifest: dict, rows: list[dict], src_dir: Path) -> Path:
    """Build target's new content in a temp folder beside it (same filesystem, so it renames in)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.new-"))
    try:
        tv = manifest["test_vectors"]
        _copy_checked(src_dir, tv["path"], tv["sha256"], tmp / Path(tv["path"]).name)
        for a in rows:
            _copy_checked(src_dir, a["path"], a["sha256"], tmp / Path(a["path"]).name)
        trimmed = dict(manifest, artifacts=[dict(a, path=Path(a["path"]).name) for a in rows],
                       test_vectors=dict(tv, path=Path(tv["path"]).name, quantized_check=QUANTIZED_CHECK))
        atomic_write_json(tmp / "manifest.json", trimmed)
        owner.mark(tmp, OWNER)  # last: it lists every file above, so the next embed may replace them
        for f in tmp.iterdir():  # mkdtemp/mkstemp make 0700/0600; the web server and Gradle only read
            f.chmod(0o644)
        tmp.chmod(0o755)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tmp


def _swap_in(staged: list[tuple[Path, Path]]) -> None:
    """Rename every staged folder over its target; if one rename fails, the ones done are undone,
    so the demos hold the new set together or the old set together, never one of each."""
    done: list[tuple[Path, Path]] = []
    try:
        for target, tmp in staged:
            old = target.parent / f".{target.name}.old"
            shutil.rmtree(old, ignore_errors=True)
            if target.exists():
                target.rename(old)
            done.append((target, old))
            tmp.rename(target)
    except BaseException:
        for target, old in reversed(done):  # back to the old content, or to no folder if there was none
            shutil.rmtree(target, ignore_errors=True)
            if old.exists():
                old.rename(target)
        raise
    for _, old in done:
        shutil.rmtree(old, ignore_errors=True)


def embed(manifest_path: Path, assets_dir: Path = ANDROID_ASSETS, names: tuple[str, ...] | None = None,
          web_dir: Path | None = WEB_MODELS) -> list[str]:
    """Copy `names` (default: default_names(manifest)) from the export at `manifest_path` into both demos:
    everything is staged first and then swapped in together, so both demos change or neither."""
    manifest_path = Path(manifest_path)
    manifest = read(manifest_path)
    if "test_vectors" not in manifest:
        raise UserError(f"manifest {manifest_path} lists no test_vectors; re-run `python -m export`")
    check_targets(assets_dir, web_dir)
    rows = select(manifest, tuple(names) if names else default_names(manifest), strict=bool(names))
    web_rows = [a for a in rows if a["format"] in WEB_FORMATS]
    plan = [(Path(assets_dir), rows)] + ([(Path(web_dir), web_rows)] if web_dir is not None and web_rows else [])
    for target, chosen in plan:
        check_free_space(target.parent, disk_needed(manifest, chosen), "embedding")
    staged: list[tuple[Path, Path]] = []
    try:
        for target, chosen in plan:
            where = target
            staged.append((target, _stage(target, manifest, chosen, manifest_path.parent)))
        where = ", ".join(str(t) for t, _ in plan)
        _swap_in(staged)
    except OSError as e:
        raise UserError(f"cannot write the demo folder {where} ({e.strerror or e}); neither demo was changed: "
                        f"make it writable or free space, then rerun `python -m export.embed`") from None
    finally:
        for _, tmp in staged:
            shutil.rmtree(tmp, ignore_errors=True)
    return [a["name"] for a in rows]


def embed_step(manifest_path: Path, names: tuple[str, ...] | None = None, force: bool = False,
               assets_dir: Path = ANDROID_ASSETS, web_dir: Path = WEB_MODELS) -> None:
    """`embed`, as a pipeline stage: skipped, with one line saying why, when both demos already hold
    these artifacts of this very manifest (common/stages.py); --force embeds anyway."""
    def inputs() -> dict:
        return {"names": list(names or DEFAULT_NAMES), "manifest": stages.files([Path(manifest_path)]),
                "web_dir": str(web_dir), "code": stages.code("export", "common")}
    with stages.running("embed", Path(assets_dir), inputs, force) as stage:
        if stage is None:
            return
        done = embed(manifest_path, assets_dir, names, web_dir)
        stage.done([Path(assets_dir)] + ([Path(web_dir)] if web_dir is not None and Path(web_dir).exists() else []))
    print(f"embedded {', '.join(done)} into the mobile demos")


def disk_needed(manifest: dict, rows: list[dict]) -> int:
    """Bytes a demo folder's new set takes while the old one still stands: the artifacts at their
    manifest sizes, the test vectors (~3 kB an image) and 1 MiB for the manifest."""
    vectors = manifest["test_vectors"].get("count", 0)
    return sum(a.get("size_bytes") or 0 for a in rows) + 4096 * (vectors if isinstance(vectors, int) else 0) + 2**20


@dataclasses.dataclass(frozen=True)
class EmbedConfig:
    manifest: Path = option(ROOT / "artifacts" / "manifest.json", "manifest.json written by `python -m export`")
    names: tuple[str, ...] = option((), f"artifact names (empty: {','.join(DEFAULT_NAMES)}, or the same variants of "
                                        f"the manifest's model, skipping any not ok)")
    assets_dir: Path = option(ANDROID_ASSETS, "the Android app's assets folder")
    web_dir: Path = option(WEB_MODELS, "the web demo's models folder (gets the ONNX ones)")

    def __post_init__(self) -> None:
        check_fields(self)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m export.embed", description=__doc__.splitlines()[0])
    add_config_flags(p, EmbedConfig, config_file=False)
    cfg = config_from_args(EmbedConfig, "embed", p.parse_args(argv))
    done = embed(cfg.manifest, cfg.assets_dir, cfg.names or None, cfg.web_dir)
    print(f"embedded {', '.join(done)} into {cfg.assets_dir} (ONNX ones also into {cfg.web_dir})")
    return 0


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(run_cli(main, interrupted="each demo folder holds its old set or the new one, whole"))
