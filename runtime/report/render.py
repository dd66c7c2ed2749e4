"""latency_report.md and latency_report.html from the report dict (the JSON is the source of truth,
so `python -m runtime.render` re-renders both without measuring). The page model comes from
view.py (header, cards, problems), table.py (the artifact table), details.py (what folds out)
and plots.py; the layout is jinja2 templates in runtime/report/templates/, no HTML in Python."""
from __future__ import annotations

import json
from typing import Any

import jinja2
from markupsafe import Markup, escape

from runtime.report import details, plots, table, view

ENV = jinja2.Environment(loader=jinja2.PackageLoader("runtime.report", "templates"),
                         autoescape=jinja2.select_autoescape(enabled_extensions=("html",)),
                         undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                         keep_trailing_newline=True)


def breakable(name: str) -> Markup:
    """A long artifact name that may wrap after its underscores (a card is ~250 px wide)."""
    return Markup("_<wbr>").join(escape(part) for part in str(name).split("_"))


def md_cell(value) -> str:
    """A Markdown table cell: no pipes or line breaks of its own."""
    return str(value).replace("|", "\\|").replace("\n", " ")


ENV.filters.update(breakable=breakable, md_cell=md_cell)


def page(report: dict, with_figures: bool = True) -> dict[str, Any]:
    """Everything the templates show, by name; the Markdown has no figures."""
    return {"header": view.header(report), "cards": view.cards(report), "problems": view.problems(report),
            "table": table.artifact_table(report), "figures": plots.figures(report) if with_figures else [],
            "method": details.method_sections(report)}


def markdown(report: dict) -> str:
    return ENV.get_template("report.md").render(page(report, with_figures=False))


def html(report: dict) -> str:
    return ENV.get_template("report.html").render(page(report))


def render_all(report: dict) -> tuple[str, str, str]:
    """The report's three files' texts: JSON, Markdown, HTML."""
    return json.dumps(report, indent=2) + "\n", markdown(report), html(report)
