"""GitHub-flavoured markdown report: fits a CI job summary (append it to ``$GITHUB_STEP_SUMMARY``)."""

from __future__ import annotations

from suite.report import MAKE_RUNS, Report, Section
from suite.reports import _format
from suite.reports._common import counts_text, provenance_lines, statistics_lines, table_header, verdict_text

_VERDICT_STYLE = {"holds": "✅ **holds**", "worse": "❌ **worse**", "no practical gain": "➖ no practical gain"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _section(section: Section) -> list[str]:
    metric = section.metric
    header = table_header(metric)
    lines = [f"### {section.title}", "", _row(header), "|" + "---|" * len(header)]
    for baseline, first in section.baselines():
        lines.append(
            _row(
                [f"`{baseline}` (baseline)", "", _format.mean_sd(first.baseline_mean, first.baseline_sd, metric)]
                + [""] * 7
            )
        )
        for comp in (c for c in section.comparisons if c.baseline == baseline):
            verdict = (
                _VERDICT_STYLE.get(comp.verdict, verdict_text(comp)) if comp.reason is None else verdict_text(comp)
            )
            lines.append(
                _row(
                    [
                        f"`{comp.variant}`",
                        _format.runs(comp),
                        _format.mean_sd(comp.variant_mean, comp.variant_sd, metric),
                        _format.gain_ci(comp),
                        _format.p_value(comp.shown_p),
                        _format.folds_won(comp),
                        verdict,
                        _format.params_added(comp),
                        _format.gmacs_added(comp),
                        _format.latency_added(comp),
                    ]
                )
            )
    refused = [c for c in section.comparisons if c.reason is not None]
    if refused:
        lines += ["", "Refused (no statistics):"] + [f"- `{c.variant}`: {c.reason}" for c in refused]
    lines += [""] + [f"<sub>{line}</sub><br>" for line in statistics_lines(section)]
    return lines + [""]


def render(report: Report) -> str:
    lines = ["## suite verdicts", "", counts_text(report), ""]
    if not report.sections:
        lines += [f"No variant has runs to compare yet; {MAKE_RUNS}.", ""]
    for section in report.sections:
        lines += _section(section)
    lines += ["<details><summary>Provenance</summary>", "", "| | |", "|---|---|"]
    lines += [_row([label, value]) for label, value in provenance_lines(report)]
    lines += ["", "</details>", ""]
    return "\n".join(lines)
