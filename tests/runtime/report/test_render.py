"""The HTML report opened in headless Chromium: self-contained, every plot decodes, the page is not blank."""
from __future__ import annotations

import os
import re
import shutil
import subprocess

import matplotlib.image

from runtime.report import render
from runtime.report.plots import pareto_front
from tests.conftest import require

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# After `load`, the page title says how many <img> decoded (naturalWidth > 0) out of how many there are.
PROBE = ("<script>window.addEventListener('load', () => { const imgs = [...document.images];"
         " document.title = 'decoded ' + imgs.filter(i => i.complete && i.naturalWidth > 0).length"
         " + '/' + imgs.length; });</script>")


def chromium(tmp_path, *args) -> str:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'profile'}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True).stdout


def test_html_plots_decode_and_render_in_chromium(quick_report, tmp_path):
    require(os.path.exists(CHROMIUM), "chromium is not installed (apt-get install chromium)")
    _, out, report = quick_report
    page = (out / "latency_report.html").read_text()
    # self-contained: every image is inline, nothing is fetched
    assert not re.search(r"(src|href)=['\"](?!data:)", page)
    # cpu accuracy-vs-latency, the export's compression search, file sizes (cuda/devices have no numbers)
    assert page.count("<img ") == 3
    probed = tmp_path / "probed.html"
    probed.write_text(page.replace("</body>", PROBE + "</body>"))
    dom = chromium(tmp_path, "--virtual-time-budget=5000", "--dump-dom", probed.as_uri())
    assert "<title>decoded 3/3</title>" in dom, dom[:300]

    shot = tmp_path / "shot.png"
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,3000", (out / "latency_report.html").as_uri())
    pixels = matplotlib.image.imread(shot)[..., :3]
    non_white = (pixels.min(axis=2) < 0.9).mean()
    colored = (pixels.max(axis=2) - pixels.min(axis=2) > 0.3).mean()  # plot markers, bars, lines
    assert non_white > 0.02, f"screenshot is nearly blank ({non_white:.1%} non-white)"
    assert colored > 0.001, f"no colored plot pixels in the screenshot ({colored:.2%})"


def test_pareto_front_keeps_points_nothing_beats():
    points = [(10, 0.97, "a"), (20, 0.98, "b"), (15, 0.96, "c"), (30, 0.985, "d"), (40, 0.98, "e")]
    # c is slower and less accurate than a; e is slower than b at the same accuracy
    assert [p[2] for p in pareto_front(points)] == ["a", "b", "d"]


def test_a_target_without_a_recommendation_says_why():
    report = {"recommendation": {
        "cuda": {"measured": False, "reason": "no CUDA device", "how_to_measure": "python -m runtime --targets cuda"},
        "cpu": {"measured": True, "best": None, "reason": "no ok artifact within the accuracy budget"}}}
    lines = render.recommendation_lines(report)
    assert lines == ["- cuda: not measured (no CUDA device); measure it with `python -m runtime --targets cuda`",
                     "- cpu: none (no ok artifact within the accuracy budget)"]


def test_an_arm64_row_not_measured_for_lack_of_set_up_renders():
    """Without `make arm64` the arm64 target is one "not measured" row that names no runtime."""
    from runtime.report.rows import Row
    row = Row(target="arm64", status="not measured", reason="the ARM64 set-up is missing: run `make arm64`").to_dict()
    out = render.with_x86({"rows": [row]}, [row])
    assert out[0]["x86_p50_us"] is None and out[0]["runtime"] is None
