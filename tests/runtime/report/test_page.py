"""The HTML report opened in headless Chromium as a person opens it (file://, offline): every target's
card on the first screen of a 1400x900 window with the artifact it recommends, a column header
that sorts, a filter that filters, an artifact's figures that fold out; readable on a phone."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from runtime.report import plots

from tests.conftest import ROOT, require

PAGE = ROOT / "tools" / "report_page.mjs"
CHROMIUM = Path("/usr/bin/chromium")
PLAYWRIGHT = ROOT / "mobile_demo" / "web" / "node_modules" / "playwright-core" / "package.json"


def probe(html: Path, out: Path, *args: str) -> dict:
    require(shutil.which("node") is not None, "node is not installed")
    require(CHROMIUM.is_file(), f"{CHROMIUM} missing: apt-get install chromium")
    require(PLAYWRIGHT.is_file(), "playwright-core missing: run `npm ci --prefix mobile_demo/web`")
    done = subprocess.run(["node", str(PAGE), "probe", str(html), str(out), *args], capture_output=True, text=True,
                          timeout=180, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def desktop(quick_report, tmp_path_factory) -> tuple[dict, dict]:
    """(report, what the page showed and did at 1400x900): sort by size, filter int8-dynamic, fold one out."""
    _, out, report = quick_report
    fold = next(a["name"] for a in report["artifacts"] if a["status"] == "ok")
    seen = probe(out / "latency_report.html", tmp_path_factory.mktemp("page") / "probe.json",
                 "--sort", "size", "--filter", "quantization=int8-dynamic", "--fold", fold)
    return report, seen


def test_every_card_is_on_the_first_screen_with_what_it_recommends(desktop):
    report, seen = desktop
    cards = {c["target"]: c for c in seen["cards"]}
    assert list(cards) == list(report["recommendation"]), "one card per target and device, in the report's order"
    for key, rec in report["recommendation"].items():
        card = cards[key]
        assert 0 <= card["top"] and card["bottom"] <= 900 and card["right"] <= 1400, f"{key}: below the first screen"
        if rec["best"]:
            assert card["artifact"] == rec["best"]["artifact"] and rec["best"]["artifact"] in card["text"]
        else:  # not measured here (no GPU, no phone...): why, and the one command that would
            assert rec["reason"] in card["text"] and (rec["how_to_measure"] or "") in card["text"]
    assert any(rec["best"] for rec in report["recommendation"].values()), "the cpu target recommends something"
    assert seen["errors"] == [] and seen["external"] == [], "a page error, or something fetched from outside"
    # every plot the report's data allows (the cpu one at least; the search frontier when the export searched)
    assert seen["images"]["total"] == len(plots.figures(report)) >= 1
    assert seen["images"]["decoded"] == seen["images"]["total"]


def test_a_header_click_sorts_by_that_column_and_a_second_reverses_it(desktop):
    report, seen = desktop
    sizes = {a["name"]: a["size_bytes"] for a in report["artifacts"]}
    sort = seen["sort"]
    assert sort["before"] == seen["order"] and sort["first"] != sort["before"]
    measured = [n for n in sort["first"] if sizes.get(n)]
    assert [sizes[n] for n in measured] == sorted(sizes[n] for n in measured) and sort["first_aria"] == "ascending"
    assert sort["first"][:len(measured)] == measured, "artifacts without a file (unsupported) sort last"
    descending = [sizes[n] for n in sort["second"] if sizes.get(n)]
    assert descending == sorted(descending, reverse=True) and sort["second_aria"] == "descending"


def test_a_filter_keeps_only_its_rows(desktop):
    report, seen = desktop
    f = seen["filter"]
    wanted = [a["name"] for a in report["artifacts"] if a["quantization"] == "int8-dynamic"]
    assert sorted(f["shown"]) == sorted(wanted) and wanted
    assert f["count"] == f"{len(wanted)} of {len(seen['order'])}" and f["shown_after_reset"] == len(seen["order"])


def test_an_artifacts_figures_fold_out_under_its_row(desktop):
    report, seen = desktop
    fold = seen["fold"]
    assert not fold["visible_before"] and fold["visible_after"]
    rows = [r for r in report["rows"] if r["artifact"] == fold["artifact"] and r["status"] == "ok"]
    assert fold["tables"] >= len({(r["target"], r["device"]) for r in rows}) >= 1
    for label in ("p50", "p90", "p99", "load", "first call"):
        assert label in fold["text"], f"{label} missing from the folded-out figures"
    assert all(r["runtime"] in fold["text"] for r in rows)


def test_a_phone_reads_it_without_sideways_scrolling(quick_report, tmp_path):
    """390 px wide: the cards stack, only the artifact table scrolls sideways, inside its own box."""
    _, out, report = quick_report
    seen = probe(out / "latency_report.html", tmp_path / "phone.json", "--width", "390", "--height", "844")
    assert seen["page_width"] <= 390, f"the page is {seen['page_width']} px wide on a 390 px screen"
    first = seen["cards"][0]
    assert first["left"] >= 0 and first["right"] <= 390 and first["top"] < 844
