"""The report: one typed row per measurement (rows), the one recommendation per target
(recommend), the report dict (assemble), the page drawn from it (view: header, cards, problems;
table: one row per artifact; details: what folds out; plots; templates/: the jinja2 layout),
rendered to Markdown and HTML (render) and published as one unit (publish). Schema: docs/report.md."""
