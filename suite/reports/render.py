"""Render a ``Report`` in one of the file formats: md, json, latex, html."""

from __future__ import annotations

from suite.errors import SuiteError
from suite.reports import FORMATS, html, json_document, latex, markdown
from suite.reports.model import Report

RENDERERS = dict(zip(FORMATS, (markdown.render, json_document.render, latex.render, html.render)))


def render(report: Report, fmt: str) -> str:
    """The report as text in ``fmt`` (one of ``FORMATS``)."""
    if fmt not in RENDERERS:
        raise SuiteError(f"unknown report format {fmt!r}; formats: {', '.join(FORMATS)}")
    return RENDERERS[fmt](report)
