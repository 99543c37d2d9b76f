"""GitHub-flavoured markdown report: fits a CI job summary (append it to ``$GITHUB_STEP_SUMMARY``)."""

from __future__ import annotations

from suite.reports import _format, _study_text
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
from suite.reports.study_model import StudyView
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
    header = table_header(metric, section.has_capacity)
    verdict_column = header.index("verdict")
    lines = [f"### {section.title}", "", _row(header), "|" + "---|" * len(header)]
    for setting in section.settings:
        mean = _format.mean_sd(setting.baseline_mean, setting.baseline_sd, metric)
        lines.append(_row([f"`{setting.baseline}` {setting.title.removeprefix(setting.baseline + ' ')}", "", mean]
                          + [""] * (len(header) - 3)))  # fmt: skip
        for comp in setting.comparisons:
            cells = [f"`{comp.variant}`", *row_cells(comp, section.has_capacity)]
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


def _marked(text: str, verdict: str | None) -> str:
    return f"{style(verdict).emoji} {text}" if verdict else text


def _study(view: StudyView) -> list[str]:
    """The study's own tables: position tables, effects, gain by train fraction."""
    lines = [f"### Study: {view.title}", "", view.describe(), ""]
    for table in view.positions:
        lines += [_row(["position", *table.columns]), "|" + "---|" * (len(table.columns) + 1)]
        for row in table.rows:
            cells = []
            for column in table.columns:
                comp = table.cells.get((row.position, column))
                gain, params = _study_text.position_cell(comp)
                verdict = comp.verdict if comp is not None and comp.has_stats else None
                cells.append(_marked(gain, verdict) + (f"<br>{params}" if params else ""))
            lines.append(_row([f"`{_study_text.position_label(table, row.position)}`", *cells]))
        lines += ["", f"<sub>{_study_text.position_caption(table)}</sub>", ""]
        if table.skipped:
            lines += [f"<sub>Skipped: {'; '.join(table.skipped)}</sub>", ""]
        lines += [f"**{line}**<br>" for line in table.summaries()] + [""]
    for table in view.effects:
        settings = len({effect.setting for effect in table.effects}) > 1
        header = (["setting"] if settings else []) + list(_study_text.EFFECT_HEADER)
        lines += [_row(header), "|" + "---|" * len(header)]
        for effect in table.effects:
            cells = _study_text.effect_cells(effect)
            cells[-1] = _marked(f"**{cells[-1]}**", effect.verdict if effect.has_stats else None)
            lines.append(_row(([effect.setting] if settings else []) + cells))
        refused = [effect.reason for effect in table.effects if effect.reason]
        lines += ["", f"<sub>{_study_text.effects_caption(table)}</sub>", ""]
        lines += [f"Refused: {refused[0]}", ""] if refused else []
        lines += [f"**{line}**<br>" for line in table.summaries()] + [""]
    for curves in view.curve_groups():
        lines += [_row(list(_study_text.CURVE_HEADER)), "|" + "---|" * len(_study_text.CURVE_HEADER)]
        for curve in curves:
            for point in curve.points:
                cells = _study_text.curve_cells(curve, point)
                comp = point.comparison
                cells[7] = _marked(f"**{cells[7]}**", comp.verdict if comp.has_stats else None)
                lines.append(_row(cells))
        lines += ["", f"<sub>{_study_text.curves_caption(curves)}</sub>", ""]
        lines += [f"**{curve.summary()}**<br>" for curve in curves] + [""]
    return lines


def render(report: Report) -> str:
    lines = ["## suite verdicts", "", counts_text(report), "", f"<sub>{scope_text(report)}</sub>", ""]
    if not report.sections:
        lines += [f"No variant has runs to compare yet; {MAKE_RUNS}.", ""]
    for section in report.sections:
        lines += _section(section, report)
    if report.study is not None:
        lines += _study(report.study)
    lines += ["<details><summary>Provenance</summary>", "", "| | |", "|---|---|"]
    lines += [_row([label, value]) for label, value in provenance_lines(report)]
    lines += ["", "</details>", ""]
    return "\n".join(lines)
