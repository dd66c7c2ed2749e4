"""The report: one typed row per measurement (rows), the one recommendation per target
(recommend), the report dict (assemble), its Markdown and HTML (render, plots) and their
publication as one unit (publish). Schema: docs/report.md."""
