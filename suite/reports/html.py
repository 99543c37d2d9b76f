"""Self-contained HTML report: one file with inline CSS and inline SVG plots (no scripts, no CDN).

Per dataset and metric: the verdict table, a forest plot of the gains with their CIs and the ±delta
band, and a gain-versus-parameters plot; the statistics used; every validation metric, per-image
percentiles and the official test split (apart from the verdict); then the provenance of the runs.
"""

from __future__ import annotations

from html import escape

from suite.reports import _format, _study_text, _svg
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

_CSS = """
body { font: 14px/1.45 system-ui, sans-serif; color: #1f2328; max-width: 1240px; margin: 2em auto; padding: 0 1em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 1.05em; margin-top: 1.4em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 13px; }
th, td { padding: 4px 7px; border-bottom: 1px solid #d0d7de; text-align: right; }
td { white-space: nowrap; }
th:first-child, td:first-child, td.verdict { text-align: left; }
thead th { border-bottom: 2px solid #1f2328; }
tr.baseline td { background: #f6f8fa; font-style: italic; }
code { font-family: ui-monospace, monospace; font-size: 0.95em; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff; font-weight: 600; }
.notes { color: #57606a; font-size: 0.9em; }
.notes li { margin: 0.2em 0; }
.wide { overflow-x: auto; }
figure { margin: 1em 0; } figcaption { color: #57606a; font-size: 0.9em; }
td.cell { text-align: center; } td.cell small { color: #57606a; }
"""


def _badge(comp, text: str) -> str:
    return f'<span class="badge" style="background:{style(comp.verdict).colour}">{escape(text)}</span>'


def _table(section: Section) -> list[str]:
    metric = section.metric
    header = table_header(metric, section.has_capacity)
    verdict_column = header.index("verdict") - 1  # among the cells after the variant name
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    rows = [f'<div class="wide"><table><thead><tr>{head}</tr></thead><tbody>']
    for setting in section.settings:
        mean = _format.mean_sd(setting.baseline_mean, setting.baseline_sd, metric)
        title = escape(setting.title.removeprefix(setting.baseline + " "))
        rows.append(
            f'<tr class="baseline"><td><code>{escape(setting.baseline)}</code> {title}</td><td></td>'
            f"<td>{escape(mean)}</td>" + "<td></td>" * (len(header) - 3) + "</tr>"
        )
        for comp in setting.comparisons:
            text = row_cells(comp, section.has_capacity)
            cells = [f"<td>{escape(c)}</td>" for c in text]
            cells[verdict_column] = f'<td class="verdict">{_badge(comp, text[verdict_column])}</td>'
            reason = f' title="{escape(comp.reason)}"' if comp.reason else ""
            rows.append(f"<tr{reason}><td><code>{escape(comp.variant)}</code></td>" + "".join(cells) + "</tr>")
    rows.append("</tbody></table></div>")
    return rows


def _plain_table(title: str, table: tuple[list[str], list[list[str]]], note: str) -> list[str]:
    header, rows = table
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return [
        f"<h3>{escape(title)}</h3>",
        f'<div class="wide"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>',
        f'<p class="notes">{escape(note)}</p>',
    ]


def _section(section: Section, report: Report) -> list[str]:
    parts = [f"<h2>{escape(section.title)}</h2>", *_table(section)]
    refused = [c for c in section.comparisons if c.reason is not None]
    if refused:
        parts.append('<p class="notes">Refused (no statistics):</p><ul class="notes">')
        parts += [f"<li><code>{escape(c.variant)}</code>: {escape(c.reason)}</li>" for c in refused]
        parts.append("</ul>")
    parts += [
        "<figure>",
        _svg.forest_plot(section),
        "<figcaption>Gain over the baseline: dot = mean of the per-fold gains, thick bar = 90% CI, thin bar = 95% CI "
        "(corrected SE), rings = per-fold gains averaged over seeds; "
        "grey band = ±delta (practical equivalence).</figcaption>",
        "</figure>",
    ]
    cost = _svg.cost_plot(section)
    if cost:
        parts += [
            "<figure>",
            cost,
            "<figcaption>Gain (95% CI) against parameters added, in % of the baseline's parameters.</figcaption>",
            "</figure>",
        ]
    notes = statistics_lines(section) + implementation_lines(section, report)
    parts.append('<ul class="notes">' + "".join(f"<li>{escape(line)}</li>" for line in notes) + "</ul>")
    if section.validation:
        parts += _plain_table(VALIDATION_TITLE, values_table(section.validation), VALIDATION_NOTE)
    if section.per_image:
        parts += _plain_table(f"{PER_IMAGE_TITLE} · {section.metric}", per_image_table(section), per_image_note(section))
    if section.test:
        parts += _plain_table(TEST_TITLE, values_table(section.test), TEST_NOTE)
    return parts


def _header(names) -> str:
    return "<thead><tr>" + "".join(f"<th>{escape(name)}</th>" for name in names) + "</tr></thead>"


def _study(view: StudyView) -> list[str]:
    """The study's own tables: the position table as a heatmap of verdicts, the effects, the fraction curves."""
    parts = [f"<h2>Study: {escape(view.title)}</h2>", f'<p class="notes">{escape(view.describe())}</p>']
    for table in view.positions:
        parts.append(f'<div class="wide"><table>{_header(["position", *table.columns])}<tbody>')
        for row in table.rows:
            cells = []
            for column in table.columns:
                comp = table.cells.get((row.position, column))
                gain, params = _study_text.position_cell(comp)
                colour = style(comp.verdict).background if comp is not None and comp.has_stats else "#ffffff"
                tip = f' title="{escape(comp.verdict)}"' if comp is not None else ""
                cells.append(f'<td class="cell" style="background:{colour}"{tip}>{escape(gain)}<br><small>{escape(params)}</small></td>')
            parts.append(f"<tr><td><code>{escape(_study_text.position_label(table, row.position))}</code></td>{''.join(cells)}</tr>")
        parts.append("</tbody></table></div>")
        notes = [_study_text.position_caption(table)] + ([f"Skipped: {'; '.join(table.skipped)}"] if table.skipped else [])
        parts.append('<ul class="notes">' + "".join(f"<li>{escape(n)}</li>" for n in notes) + "</ul>")
        parts += [f"<p><strong>{escape(line)}</strong></p>" for line in table.summaries()]
    for table in view.effects:
        settings = len({e.setting for e in table.effects}) > 1
        header = (["setting"] if settings else []) + list(_study_text.EFFECT_HEADER)
        parts.append(f'<div class="wide"><table>{_header(header)}<tbody>')
        for effect in table.effects:
            text = _study_text.effect_cells(effect)
            cells = [f"<td>{escape(c)}</td>" for c in ([effect.setting] if settings else []) + text[:-1]]
            cells.append(f'<td class="verdict">{_badge(effect, text[-1])}</td>')
            parts.append("<tr>" + "".join(cells) + "</tr>")
        parts.append("</tbody></table></div>")
        parts.append(f'<p class="notes">{escape(_study_text.effects_caption(table))}</p>')
        parts += [f"<p><strong>{escape(line)}</strong></p>" for line in table.summaries()]
    for curves in view.curve_groups():
        parts.append(f"<h3>{escape(_study_text.curves_title(curves))}</h3>")
        parts.append(f'<div class="wide"><table>{_header(_study_text.CURVE_HEADER)}<tbody>')
        for curve in curves:
            for point in curve.points:
                text = _study_text.curve_cells(curve, point)
                cells = [f"<td>{escape(c)}</td>" for c in text[:-1]]
                cells.append(f'<td class="verdict">{_badge(point.comparison, text[-1])}</td>')
                parts.append("<tr>" + "".join(cells) + "</tr>")
        parts.append("</tbody></table></div>")
        parts.append(f'<p class="notes">{escape(_study_text.curves_caption(curves))}</p>')
        parts += [f"<p><strong>{escape(curve.summary())}</strong></p>" for curve in curves]
    return parts


def render(report: Report) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>suite verdicts</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>suite verdicts</h1>",
        f"<p>{escape(counts_text(report))}</p>",
        f'<p class="notes">{escape(scope_text(report))}</p>',
    ]
    if not report.sections:
        parts.append(f"<p>No variant has runs to compare yet; {escape(MAKE_RUNS)}.</p>")
    for section in report.sections:
        parts += _section(section, report)
    if report.study is not None:
        parts += _study(report.study)
    parts.append("<h2>Provenance</h2><table><tbody>")
    parts += [f"<tr><th>{escape(label)}</th><td>{escape(value)}</td></tr>" for label, value in provenance_lines(report)]
    parts += ["</tbody></table>", "</body></html>", ""]
    return "\n".join(parts)
