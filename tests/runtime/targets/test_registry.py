"""Adding a target is one module and one registry entry: a target registered here, and nowhere
else, is measured by `python -m runtime` and shows in the JSON, its card and the artifact table."""
from __future__ import annotations

import json
import re

from runtime.__main__ import main
from runtime.measure import selected
from runtime.report.rows import Row, describe_artifact
from runtime.targets import TARGETS
from runtime.targets.base import Context, Measured, Target

NAME = "fake-npu"


def measure_fake(ctx: Context) -> Measured:
    """A made-up accelerator whose batch-1 p50 is one microsecond per 10 kB of file: figures a test
    can predict, through the interface every real target implements."""
    rows = [Row(target=NAME, device="Fake NPU 1", runtime="fake-runtime", batch=1, p50_us=a.size_bytes / 1e4,
                **describe_artifact(a))
            for a in ctx.manifest.artifacts if a.status == "ok" and selected(a.name, ctx.cfg.artifacts)]
    return Measured(rows=rows, device={"model": "Fake NPU 1", "driver": "none"},
                    extras={"fake_floor": {"what": "a target's own block"}})


FAKE = Target(name=NAME, title="Fake NPU (test)", metric="p50_us", metric_label="p50 latency on the fake NPU",
              baseline=None, how_to_measure="python -m runtime --targets fake-npu",
              unavailable=lambda ctx: None, measure=measure_fake)


def test_a_registered_target_shows_in_the_json_its_card_and_the_table(monkeypatch, manifest_path, trained, data_dir,
                                                                       tmp_path, quick_args, sample):
    monkeypatch.setitem(TARGETS, NAME, FAKE)
    assert main(quick_args(manifest_path, trained, data_dir, tmp_path, "--targets", NAME)) == 0
    report = json.loads((tmp_path / "latency_report.json").read_text())
    manifest = json.loads(manifest_path.read_text())
    sizes = {a["name"]: a["size_bytes"] for a in manifest["artifacts"] if a["name"] in sample and a["status"] == "ok"}
    smallest = min(sizes, key=sizes.get)  # every sample artifact is within the budget (the export checked)

    assert report["targets"][NAME]["fake_floor"] == {"what": "a target's own block"}
    assert report["targets"][NAME]["device"]["model"] == "Fake NPU 1"
    assert {r["artifact"] for r in report["rows"] if r["target"] == NAME} == set(sizes)
    assert report["recommendation"][NAME]["best"]["artifact"] == smallest

    page = (tmp_path / "latency_report.html").read_text()
    card = re.search(rf'<article class="card" data-target="{NAME}" data-artifact="([^"]+)">(.*?)</article>', page, re.S)
    assert card and card.group(1) == smallest and "Fake NPU (test)" in card.group(2)
    assert f'data-key="{NAME}:p50_us"' in page.split("</thead>")[0], "no column for the new target"
    for name, size in sizes.items():
        body = page.split(f'<tbody data-name="{name}"', 1)[1].split("</tbody>", 1)[0]
        assert f'data-key="{NAME}:p50_us" data-sort="{size / 1e4}"' in body, name

    md = (tmp_path / "latency_report.md").read_text()
    assert re.search(rf"\| \*\*{NAME}\*\* \| `{smallest}` via fake-runtime \|", md)
    assert f"| {NAME} p50 |" in md
