"""Rows of the `android` and `browser-wasm` targets, from the files the mobile demos write.

Schema: docs/manifest.md, "Device results". A target's files are `<target>.json` and one
`<target>-<serial>.json` per device (`python -m runtime.android` writes one per phone); each
row names its device. Every file is validated before anything is measured, so a broken one costs
one line, not a finished measurement. A result whose artifact sha256 differs from the current
manifest was measured on another build of that artifact: its row is `stale` (numbers kept, not
used for the recommendation). A run the app could not start is one `failed` row with its reason.
No file: one `not measured` row saying so.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from common.errors import UserError, one_line
from export.manifest import fits
from runtime.manifest import Manifest
from runtime.report.rows import Row, describe_artifact

COPIED = ("load_ms", "first_ms", "p50_us", "p90_us", "p99_us", "mean_us", "trimmed_mean_us")
# The schema (docs/manifest.md, "Device results"): each key's type; ok results need OK_KEYS non-null.
DOC_TYPES = {"target": str, "created_utc": str, "device": dict[str, Any], "method": dict[str, Any], "results": list}
METHOD_TYPES = {"warmup": int, "iterations": int, "batch": int, "threads": int | None, "clock": str}
DEVICE_TYPES = {"model": str | None, "browser": str | None, "serial": str | None, "runtime": str | None}  # optional keys
RESULT_TYPES = {"artifact": str, "sha256": str, "status": str, "reason": str | None, "runtime": str | None,
                **{k: float | None for k in COPIED}, "verification": dict[str, Any] | None}
VERIFICATION_TYPES = {"top1_agreement": float | None}  # what a report row takes from it
OK_KEYS = COPIED + ("verification",)
OPTIONAL_KEYS = ("runtime",)  # the device's runtime when the file names it per result
RESULT_STATUSES = ("ok", "failed", "unsupported")


def validate(doc: Any, target: str) -> dict:
    """Check a device-results document against the schema and return it; UserError names what is wrong."""
    def need(cond: bool, what: str) -> None:
        if not cond:
            raise UserError(f"{target} results are invalid: {what}; rerun the benchmark with a matching app")
    need(isinstance(doc, dict), "not a JSON object")
    for key, kind in DOC_TYPES.items():
        need(key in doc, f"missing {key!r}")
        need(fits(doc[key], kind), f"{key} has the wrong type")
    need(doc["target"] == target, f"target is {doc['target']!r}, expected {target!r}")
    wrong = [k for k, kind in DEVICE_TYPES.items() if not fits(doc["device"].get(k), kind)]
    need(not wrong, f"device has mistyped {wrong}")
    need(doc.get("status", "ok") in ("ok", "failed"), f"status is {doc.get('status')!r}, expected ok or failed")
    if doc.get("status") == "failed":  # the app could not start: no rows, the reason says why
        need(isinstance(doc.get("reason"), str) and bool(doc["reason"]), "status failed but no reason")
        return doc
    for key, kind in METHOD_TYPES.items():
        need(key in doc["method"], f"method lacks {key!r}")
        need(fits(doc["method"][key], kind), f"method.{key} has the wrong type")
    need(bool(doc["results"]), "no results")
    for i, r in enumerate(doc["results"]):
        _validate_result(i, r, need)
    return doc


def _validate_result(i: int, r: Any, need: Callable[[bool, str], None]) -> None:
    required = [k for k in RESULT_TYPES if k not in OK_KEYS + OPTIONAL_KEYS]
    need(isinstance(r, dict) and all(k in r for k in required), f"result {i} lacks one of {required}")
    wrong = [k for k, kind in RESULT_TYPES.items() if not fits(r.get(k), kind)]
    wrong += [f"verification.{k}" for k, kind in VERIFICATION_TYPES.items()
              if isinstance(r.get("verification"), dict) and not fits(r["verification"].get(k), kind)]
    need(not wrong, f"result {i} ({r['artifact']!r}) has mistyped {wrong}")
    need(r["status"] in RESULT_STATUSES, f"result {r['artifact']} has unknown status {r['status']!r}")
    if r["status"] == "ok":
        missing = [k for k in OK_KEYS if r.get(k) is None]
        need(not missing, f"ok result {r['artifact']} lacks {missing}")
        need(r["p50_us"] <= r["p90_us"] <= r["p99_us"], f"{r['artifact']}: percentiles out of order")
    else:
        need(bool(r["reason"]), f"result {r['artifact']} has status {r['status']} but no reason")


def results_files(target: str, folder: Path) -> list[Path]:
    """`<target>.json` (one device) and `<target>-<serial>.json` (one per phone), in that order."""
    folder = Path(folder)
    return [p for p in [folder / f"{target}.json"] if p.is_file()] + sorted(folder.glob(f"{target}-*.json"))


def load(target: str, folder: Path) -> list[tuple[Path, dict]]:
    """Every validated results file of `target` in `folder` ([] when there is none)."""
    docs = []
    for path in results_files(target, folder):
        try:
            doc = json.loads(path.read_bytes())
        except (OSError, ValueError, RecursionError) as e:
            raise UserError(f"results file {path} is unreadable ({one_line(e)[:120]}); rerun its benchmark "
                            f"or move the file away") from None
        try:
            docs.append((path, validate(doc, target)))
        except UserError as e:
            raise UserError(f"{path}: {e}") from None
    return docs


def device_rows(target: str, manifest: Manifest, docs: list[tuple[Path, dict]]) -> tuple[list[Row], dict]:
    """(rows, the device/method blocks for the report) for one device target's validated files
    (`load`): of its one file, or {"files": [...]} when several devices each filed one."""
    rows, infos = [], []
    for path, doc in docs:
        rows += _file_rows(target, doc, manifest)
        infos.append({"file": str(path), "created_utc": doc["created_utc"], "device": doc["device"],
                      "method": doc["method"]})
    return rows, (infos[0] if len(infos) == 1 else {"files": infos})


def unavailable(target: str, ctx) -> str | None:
    """Why `target` has nothing to report (no results file), None when it has; its validated files
    are kept in ctx.shared for `measured`. A broken file is a UserError, before anything is measured."""
    docs = load(target, ctx.cfg.device_results_dir)
    ctx.shared[f"{target}:results"] = docs
    folder = Path(ctx.cfg.device_results_dir)
    return None if docs else f"no results file {folder / (target + '.json')} or {folder / (target + '-<serial>.json')}"


def measured(target: str, ctx):
    """The rows of the files `unavailable` read."""
    from runtime.targets.base import Measured
    rows, device = device_rows(target, ctx.manifest, ctx.shared[f"{target}:results"])
    return Measured(rows=rows, device=device)


def _file_rows(target: str, doc: dict, manifest: Manifest) -> list[Row]:
    label = device_label(doc["device"])
    if doc.get("status") == "failed":
        return [Row(target=target, device=label, status="failed",
                         reason=f"the app could not start on this device: {doc['reason']}")]
    by_name = {a.name: a for a in manifest.artifacts}
    return [_row(target, r, by_name, doc["method"], doc["device"].get("runtime"), label) for r in doc["results"]]


def device_label(device: dict) -> str | None:
    """"Google Pixel 8 (serial)" for a phone, the browser for the web demo; None when the file says nothing."""
    name = device.get("model") or device.get("browser")
    if name and device.get("serial"):
        return f"{name} ({device['serial']})"
    return name


def _row(target: str, result: dict, by_name: dict, method: dict, device_runtime: str | None,
         label: str | None) -> Row:
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
    return Row(**facts, runtime=runtime, target=target, device=label, status=status, reason=reason,
               batch=method.get("batch"), threads=method.get("threads"),
               top1_agreement=verification.get("top1_agreement"), timed_calls=method.get("iterations"), **values)
