"""Rows of the `android` and `browser-wasm` targets, from the files the mobile demos write.

Schema: docs/manifest.md, "Device results". A result whose artifact sha256 differs from the
current manifest was measured on another build of that artifact: its row is `stale`
(numbers kept, not used for the recommendation). No file: one `not measured` row saying so.
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
    """(rows, the file's device/method blocks for the report) for one device target."""
    path = Path(folder) / f"{target}.json"
    if not path.is_file():
        return [make_row(artifact=None, target=target, status="not measured",
                         reason=f"no results file {path}; {HOW_TO_MAKE.get(target, 'run its benchmark')}")], None
    try:
        data = json.loads(path.read_text())
        results = data["results"]
        method = data.get("method", {})
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as e:
        return [make_row(target=target, status="failed",
                         reason=f"results file {path} is unreadable ({type(e).__name__}: {e}); rerun its benchmark")], None
    by_name = {a.name: a for a in manifest.artifacts}
    device = data.get("device") if isinstance(data.get("device"), dict) else {}
    rows = [_row(target, r, by_name, method, device.get("runtime")) for r in results]
    info = {"file": str(path), "created_utc": data.get("created_utc"), "device": data.get("device"), "method": method}
    return rows, info


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
