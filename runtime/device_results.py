"""Rows of the `android` and `browser-wasm` targets, from the files the mobile demos write.

Schema: docs/manifest.md, "Device results". A target's files are `<target>.json` and one
`<target>-<serial>.json` per device (`python -m runtime.android` writes one per phone); each
row names its device. A result whose artifact sha256 differs from the current manifest was
measured on another build of that artifact: its row is `stale` (numbers kept, not used for the
recommendation). A run the app could not start is one `failed` row with its reason. No file:
one `not measured` row saying so.
"""
from __future__ import annotations

import json
from pathlib import Path

from runtime.manifest import Manifest
from runtime.rows import describe_artifact, make_row

HOW_TO_MAKE = {"android": "run `python -m runtime.android` with a device or emulator attached",
               "browser-wasm": "run the browser benchmark in mobile_demo/"}
COPIED = ("load_ms", "first_ms", "p50_us", "p90_us", "p99_us", "mean_us", "trimmed_mean_us")


def device_rows(target: str, folder: Path, manifest: Manifest) -> tuple[list[dict], dict | None]:
    """(rows, the device/method blocks for the report) for one device target: of its one file, or
    {"files": [...]} when several devices each filed one."""
    paths = results_files(target, Path(folder))
    if not paths:
        path = Path(folder) / f"{target}.json"
        return [make_row(artifact=None, target=target, status="not measured",
                         reason=f"no results file {path}; {HOW_TO_MAKE.get(target, 'run its benchmark')}")], None
    rows, infos = [], []
    for path in paths:
        file_rows, info = _file_rows(target, path, manifest)
        rows += file_rows
        infos += [info] if info else []
    if len(paths) == 1:
        return rows, (infos[0] if infos else None)
    return rows, {"files": infos}


def results_files(target: str, folder: Path) -> list[Path]:
    return [p for p in [folder / f"{target}.json"] if p.is_file()] + sorted(folder.glob(f"{target}-*.json"))


def _file_rows(target: str, path: Path, manifest: Manifest) -> tuple[list[dict], dict | None]:
    try:
        data = json.loads(path.read_text())
        results = data["results"]
        method = data.get("method", {})
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as e:
        return [make_row(target=target, status="failed",
                         reason=f"results file {path} is unreadable ({type(e).__name__}: {e}); rerun its benchmark")], None
    device = data.get("device") if isinstance(data.get("device"), dict) else {}
    label = device_label(device)
    info = {"file": str(path), "created_utc": data.get("created_utc"), "device": data.get("device"), "method": method}
    if data.get("status") == "failed":
        return [make_row(target=target, device=label, status="failed",
                         reason=f"the app could not start on this device: {data.get('reason')}")], info
    by_name = {a.name: a for a in manifest.artifacts}
    rows = [_row(target, r, by_name, method, device.get("runtime")) | {"device": label} for r in results]
    return rows, info


def device_label(device: dict) -> str | None:
    """"Google Pixel 8 (serial)" for a phone, the browser for the web demo; None when the file says nothing."""
    name = device.get("model") or device.get("browser")
    if name and device.get("serial"):
        return f"{name} ({device['serial']})"
    return name


def _row(target: str, result: dict, by_name: dict, method: dict, device_runtime: str | None) -> dict:
    artifact = by_name.get(result.get("artifact"))
    facts = describe_artifact(artifact) if artifact else {"artifact": result.get("artifact")}
    runtime = (result.get("runtime") or device_runtime
               or {"android": "executorch-android", "browser-wasm": "onnxruntime-web"}.get(target))
    status, reason = result.get("status", "failed"), result.get("reason")
    if artifact is None:
        status, reason = "stale", "artifact is not in the current manifest"
    elif result.get("sha256") != artifact.sha256:
        status, reason = "stale", "measured on a different build of this artifact (sha256 differs from the manifest)"
    verification = result.get("verification") or {}
    values = {k: result.get(k) for k in COPIED}
    if values["mean_us"] and method.get("batch"):
        values["throughput"] = method["batch"] * 1e6 / values["mean_us"]
    return make_row(**facts, runtime=runtime, target=target, status=status, reason=reason,
                    batch=method.get("batch"), threads=method.get("threads"),
                    top1_agreement=verification.get("top1_agreement"), timed_calls=method.get("iterations"),
                    **values)
