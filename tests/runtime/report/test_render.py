"""runtime/report/render.py and `python -m runtime.render`: the Markdown is the cards plus one row
per artifact; a re-render from the JSON alone gives the same files, published where the report
lives; bad input is one line; what a default report leaves out is said, not left blank."""
from __future__ import annotations

import copy
import json
import random
import shutil

import pytest

from common.errors import run_cli
from runtime.render import main as render_main
from runtime.report import render
from runtime.report.plots import LABEL_GAP, pareto_front, spread
from runtime.report.view import NOT_IN_DEFAULT


def section(markdown: str, title: str) -> list[str]:
    """The lines of one `## title` section."""
    lines = markdown.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0].splitlines()
    return [line for line in lines if line.strip()]


def test_markdown_is_the_cards_then_one_row_per_artifact(quick_report):
    _, out, report = quick_report
    md = (out / "latency_report.md").read_text()
    ship = section(md, "What to ship")
    for key, rec in report["recommendation"].items():
        line = next(line for line in ship if line.startswith(f"| **{key}** |"))
        assert (f"`{rec['best']['artifact']}` via {rec['best']['runtime']}" if rec["best"] else rec["reason"]) in line
    table = [line for line in section(md, "Artifacts") if line.startswith("| ") and "`" in line.split("|")[1]]
    assert len(table) == len(report["artifacts"]) + 1, "one row per artifact, and the torch-eager baseline"
    for a in report["artifacts"]:
        assert sum(f"`{a['name']}`" in line for line in table) == 1


def test_rerendering_the_json_gives_the_same_files_in_the_folder_the_report_lives_in(quick_report, tmp_path, capsys):
    _, out, _ = quick_report
    reports = tmp_path / "reports"
    shutil.copy(out / "latency_report.json", tmp_path / "copied.json")
    assert render_main([str(tmp_path / "copied.json"), "--out-dir", str(reports)]) == 0
    for name in ("latency_report.md", "latency_report.html", "latency_report.json"):
        assert (reports / name).read_text() == (out / name).read_text(), f"{name} differs from the measured run's"
    run = (reports / "latency_report").resolve()
    for given in (reports / "latency_report.json", run / "latency_report.json"):  # the link, or the run's own file
        assert render_main([str(given)]) == 0
        assert (reports / "latency_report").resolve() != run, "not republished into reports/"
        assert not (run / "latency_report").exists() and (reports / "latency_report.html").is_file()
        run = (reports / "latency_report").resolve()
    assert f"report: {reports / 'latency_report.json'}" in capsys.readouterr().out


def broken_reports(good: dict) -> dict[str, object]:
    cases = {"not JSON": "{", "an older schema": {**good, "schema": "latency-report/1"}, "a list": [1, 2]}
    for key in ("targets", "recommendation", "artifacts", "environment"):
        cases[f"no {key}"] = {k: v for k, v in good.items() if k != key}
    card = next(iter(good["recommendation"]))
    cases["a card without best"] = {**good, "recommendation": {
        card: {k: v for k, v in good["recommendation"][card].items() if k != "best"}}}
    cases["a row with an unknown status"] = {**good, "rows": [{**good["rows"][0], "status": "great"}]}
    cases["a target block that is a string"] = {**good, "targets": {**good["targets"], "cpu": "fast"}}
    return cases


def test_a_broken_report_is_one_line_and_the_published_one_stays(quick_report, tmp_path, capsys):
    _, out, good = quick_report
    reports = tmp_path / "reports"
    assert render_main([str(out / "latency_report.json"), "--out-dir", str(reports)]) == 0
    before = (reports / "latency_report").resolve()
    capsys.readouterr()
    for what, doc in {"missing": None, **broken_reports(good)}.items():
        path = tmp_path / "bad.json"
        path.unlink(missing_ok=True)
        if doc is not None:
            path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
        assert run_cli(render_main, [str(path), "--out-dir", str(reports)]) == 2, what
        err = capsys.readouterr().err
        assert err.startswith("error: report ") and err.count("\n") == 1 and "python -m runtime" in err, (what, err)
    assert (reports / "latency_report").resolve() == before


def test_a_default_report_says_what_it_did_not_measure(quick_report):
    _, _, report = quick_report  # made without --full: its method block lists what it left out
    assert report["method"]["left_out"]["cpu"]
    for text in (render.html(report), render.markdown(report)):
        assert NOT_IN_DEFAULT in text and "python -m runtime --full` measures them" in text
    full = copy.deepcopy(report)
    full["method"]["left_out"] = {}  # what a --full report records
    assert NOT_IN_DEFAULT not in render.html(full) and "Left out:" not in render.markdown(full)


def test_text_from_the_manifest_is_escaped(quick_report):
    _, _, report = quick_report
    hostile = copy.deepcopy(report)
    hostile["artifacts"][0]["reason"] = "<img src=x onerror=alert(1)>"
    page = render.html(hostile)
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_pareto_front_keeps_points_nothing_beats():
    points = [(10, 0.97, "a"), (20, 0.98, "b"), (15, 0.96, "c"), (30, 0.985, "d"), (40, 0.98, "e")]
    # c is slower and less accurate than a; e is slower than b at the same accuracy
    assert [p[2] for p in pareto_front(points)] == ["a", "b", "d"]


@pytest.mark.parametrize("seed", range(20))
def test_plot_labels_never_overlap_however_close_their_points(seed):
    rng = random.Random(seed)
    wanted = sorted(rng.choice([rng.random(), 0.5, 0.99]) for _ in range(rng.randint(1, 14)))
    placed = spread(wanted, LABEL_GAP)
    gap = min(LABEL_GAP, 1 / max(len(wanted) - 1, 1))
    assert all(0 <= y <= 1 for y in placed), placed
    assert all(b - a >= gap - 1e-9 for a, b in zip(placed, placed[1:])), placed
