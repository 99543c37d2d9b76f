"""GitHub-flavoured markdown report: fits a CI job summary (append it to ``$GITHUB_STEP_SUMMARY``)."""

from __future__ import annotations

from suite.reports import _format
from suite.reports._common import (
    PER_IMAGE_TITLE,
    TEST_NOTE,
    TEST_TITLE,
    VALIDATION_NOTE,
    VALIDATION_TITLE,
    counts_text,
    implementation_lines,
    per_image_note,
    per_image_table,
    provenance_lines,
    row_cells,
    scope_text,
    statistics_lines,
    table_header,
    values_table,
)
from suite.reports.model import MAKE_RUNS, Report, Section
from suite.reports.style import style


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _table(title: str, table: tuple[list[str], list[list[str]]], note: str) -> list[str]:
    header, rows = table
    lines = [f"#### {title}", "", _row(header), "|" + "---|" * len(header)]
    return lines + [_row(row) for row in rows] + ["", f"<sub>{note}</sub>", ""]


def _section(section: Section, report: Report) -> list[str]:
    metric = section.metric
    header = table_header(metric)
    verdict_column = header.index("verdict")
    lines = [f"### {section.title}", "", _row(header), "|" + "---|" * len(header)]
    for setting in section.settings:
        mean = _format.mean_sd(setting.baseline_mean, setting.baseline_sd, metric)
        lines.append(_row([f"`{setting.baseline}` {setting.title.removeprefix(setting.baseline + ' ')}", "", mean]
                          + [""] * (len(header) - 3)))  # fmt: skip
        for comp in setting.comparisons:
            cells = [f"`{comp.variant}`", *row_cells(comp)]
            if comp.reason is None:
                cells[verdict_column] = f"{style(comp.verdict).emoji} **{cells[verdict_column]}**"
            lines.append(_row(cells))
    refused = [c for c in section.comparisons if c.reason is not None]
    if refused:
        lines += ["", "Refused (no statistics):"] + [f"- `{c.variant}`: {c.reason}" for c in refused]
    notes = statistics_lines(section) + implementation_lines(section, report)
    lines += [""] + [f"<sub>{line}</sub><br>" for line in notes] + [""]
    if section.validation:
        lines += _table(VALIDATION_TITLE, values_table(section.validation), VALIDATION_NOTE)
    if section.per_image:
        lines += _table(f"{PER_IMAGE_TITLE} · {section.metric}", per_image_table(section), per_image_note(section))
    if section.test:
        lines += _table(TEST_TITLE, values_table(section.test), TEST_NOTE)
    return lines


def render(report: Report) -> str:
    lines = ["## suite verdicts", "", counts_text(report), "", f"<sub>{scope_text(report)}</sub>", ""]
    if not report.sections:
        lines += [f"No variant has runs to compare yet; {MAKE_RUNS}.", ""]
    for section in report.sections:
        lines += _section(section, report)
    lines += ["<details><summary>Provenance</summary>", "", "| | |", "|---|---|"]
    lines += [_row([label, value]) for label, value in provenance_lines(report)]
    lines += ["", "</details>", ""]
    return "\n".join(lines)
