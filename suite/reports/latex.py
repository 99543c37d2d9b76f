"""LaTeX report: one booktabs table per dataset and metric, ready to ``\\input`` into a paper.

Needs ``\\usepackage{booktabs}`` in the preamble; everything else is plain LaTeX (verdict marks are
math symbols). Names are escaped, so ``vit_tiny+se(rd_ratio=0.25)`` prints as written.
"""

from __future__ import annotations

from suite import _stats
from suite.metric_catalog import metric_info
from suite.reports import _format, _study_text
from suite.reports._common import capacity_lines, family_text, provenance_lines, scope_text
from suite.reports.model import Report, Section
from suite.reports.study_model import StudyView
from suite.reports.style import VERDICT_STYLES, style

_SPECIALS = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}  # fmt: skip
_HEADER = [
    "Gain [95\\% CI]",
    r"$p_\mathrm{Holm}$",
    "Wins",
    r"$P(>\delta)$",
    "Verdict",
    r"$\Delta$Params",
    r"$\Delta$GMACs",
    r"$\Delta$ms",
]
_SYMBOLS = {
    "±": r"$\pm$",
    "×": r"$\times$",
    "–": "--",
    "−": "$-$",
    "<": r"$<$",
    ">": r"$>$",
    "≥": r"$\geq$",
    "·": r"$\cdot$",
}


def escape(text: str) -> str:
    """Text with LaTeX's special characters escaped and the report's symbols in math mode."""
    out = "".join(_SPECIALS.get(ch, ch) for ch in str(text))
    return "".join(_SYMBOLS.get(ch, ch) for ch in out)


def _number(text: str) -> str:
    """A formatted number cell: a leading or bracketed minus becomes a math minus."""
    return escape(text.replace("-", "−"))


def _label(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower())


def _caption(section: Section, report: Report) -> str:
    comps = section.comparisons
    metric = section.metric
    info = metric_info(metric)
    unit = "\\%" if info.unit == "%" else escape(info.unit)
    grids = ", ".join(sorted({_format.runs(c) for c in comps}))
    delta = _format.value(section.delta, metric)
    devices = ", ".join(report.provenance["devices"]) or "not recorded"
    commits = ", ".join(report.provenance["git_commits"]) or "not recorded"
    marks = ", ".join(f"{s.latex} {escape(label)}" for label, s in VERDICT_STYLES.items())
    versions = ", ".join(report.provenance.get("metric_packages", {}).get(info.package) or []) or "version not recorded"
    computed = f"{escape(info.label)}: {escape(info.implementation)} ({escape(info.package)} {escape(versions)}). " if info.implementation else ""
    return (
        f"{escape(section.dataset)}, {escape(metric)} ({unit}, {info.direction}; gains $>0$ are better): "
        f"mean $\\pm$ sd over folds $\\times$ seeds ({escape(grids)}). {computed}"
        f"Gain: improvement over the baseline with {escape(f'{_stats.CI_LEVEL:.0%}')} CI; $p$: corrected resampled $t$-test "
        "(Nadeau \\& Bengio 2003) on per-fold differences averaged over seeds, two-sided, Holm-adjusted within "
        f"{escape(family_text(section))}. $P(>\\delta)$: posterior probability of a gain above $\\delta$ = {delta} "
        f"(correlated Bayesian $t$-test). Marks: {marks}; holds: adjusted $p<{_stats.ALPHA:g}$, "
        f"gain $\\geq\\delta$, wins $\\geq k-1$ of $k$ folds. {escape(scope_text(report))} "
        "Cost added over the baseline: parameters, fvcore GMACs (batch 1), latency in ms "
        f"(batch 1, {escape(_latency_devices(section))}). Runs: suite {escape(report.provenance['suite_version'])}, "
        f"commit {escape(commits)}, {escape(devices)}."
        + "".join(" " + escape(line) for line in capacity_lines(section))
    )


def _latency_devices(section: Section) -> str:
    return (
        ", ".join(sorted({c.latency_device for c in section.comparisons if c.latency_device})) or "device not recorded"
    )


def _capacity(comp) -> str:
    """The variant against its capacity-matched control: its gain with CI and the verdict's mark."""
    cap = comp.capacity
    if cap is None or not cap.has_stats:
        return "--" if comp.control is None else "refused"
    return f"{_number(_format.gain_ci(cap))} {style(cap.verdict).latex}"


def _table(section: Section, report: Report) -> list[str]:
    metric = section.metric
    header = [*_HEADER[:5], r"vs.\ control", *_HEADER[5:]] if section.has_capacity else _HEADER
    columns = "lrrrcrc" + ("r" if section.has_capacity else "") + "rrr"
    lines = [
        r"\begin{table}[t]",
        r"\centering",
        r"\small",
        rf"\caption{{{_caption(section, report)}}}",
        rf"\label{{tab:suite-{_label(section.dataset)}-{_label(metric)}}}",
        rf"\begin{{tabular}}{{{columns}}}",
        r"\toprule",
        " & ".join(["Variant", escape(metric), *header]) + r" \\",
        r"\midrule",
    ]
    for index, setting in enumerate(section.settings):
        if index:
            lines.append(r"\midrule")
        mean = _number(_format.mean_sd(setting.baseline_mean, setting.baseline_sd, metric))
        title = escape(setting.title.removeprefix(setting.baseline + " "))
        lines.append(" & ".join([rf"\texttt{{{escape(setting.baseline)}}} {title}", mean] + [""] * len(header)) + r" \\")
        for comp in setting.comparisons:
            cells = [
                rf"\quad\texttt{{{escape(comp.variant)}}}",
                _number(_format.mean_sd(comp.variant_mean, comp.variant_sd, metric)),
                _number(_format.gain_ci(comp)),
                _number(_format.p_value(comp.shown_p)),
                _number(_format.folds_won(comp)),
                escape(_format.probability(comp.prob_above_delta)),
                style(comp.verdict).latex if comp.reason is None else "refused",
                *([_capacity(comp)] if section.has_capacity else []),
                _number(_format.params_added(comp)),
                _number(_format.gmacs_added(comp)),
                _number(_format.latency_added(comp).replace(" ms", "")),
            ]
            lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}", ""]
    return lines


def _booktabs(caption: str, label: str, header: list[str], rows: list[list[str]], align: str) -> list[str]:
    return [
        r"\begin{table}[t]", r"\centering", r"\small", rf"\caption{{{caption}}}", rf"\label{{tab:suite-{label}}}",
        rf"\begin{{tabular}}{{{align}}}", r"\toprule", " & ".join(header) + r" \\", r"\midrule",
        *(" & ".join(row) + r" \\" for row in rows), r"\bottomrule", r"\end{tabular}", r"\end{table}", "",
    ]  # fmt: skip


def _mark(verdict: str | None) -> str:
    return style(verdict).latex if verdict else ""


def _study(view: StudyView) -> list[str]:
    """One booktabs table per position table, effects table and fraction curve of the study."""
    lines = [f"% {escape(view.title)}: {escape(view.describe())}"]
    for table in view.positions:
        rows = []
        for row in table.rows:
            cells = [escape(_study_text.position_label(table, row.position))]
            for column in table.columns:
                comp = table.cells.get((row.position, column))
                gain, params = _study_text.position_cell(comp)
                verdict = comp.verdict if comp is not None and comp.has_stats else None
                cells.append(_number(gain.rsplit(" ", 1)[0] if verdict else gain) + f" {_mark(verdict)}".rstrip())
            rows.append(cells)
        summary = " ".join(escape(line) + "." for line in table.summaries())
        caption = escape(_study_text.position_caption(table)) + " " + summary
        label = f"{_label(view.name)}-{_label(table.dataset)}-{_label(table.setting or 'all')}"
        lines += _booktabs(caption, label, ["Position", *map(escape, table.columns)], rows, "l" + "r" * len(table.columns))
    for table in view.effects:
        settings = len({e.setting for e in table.effects}) > 1
        rows = []
        for effect in table.effects:
            text = _study_text.effect_cells(effect)
            cells = [escape(text[0]), escape(text[1]), _number(text[2]), _number(text[3]), escape(text[4]),
                     f"{_mark(effect.verdict if effect.has_stats else None)} {escape(text[5])}"]  # fmt: skip
            rows.append(([escape(effect.setting)] if settings else []) + cells)
        header = (["Setting"] if settings else []) + ["Effect", "Of", "Gain [95\\% CI]", r"$p_\mathrm{Holm}$", "Wins", "Verdict"]
        caption = escape(_study_text.effects_caption(table)) + " " + " ".join(escape(l) + "." for l in table.summaries())
        lines += _booktabs(caption, f"{_label(view.name)}-{_label(table.dataset)}-effects", header, rows,
                           ("l" if settings else "") + "llrrrl")  # fmt: skip
    for number, curves in enumerate(view.curve_groups()):
        rows = []
        for curve in curves:
            for point in curve.points:
                text = _study_text.curve_cells(curve, point)
                comp = point.comparison
                rows.append([rf"\texttt{{{escape(text[0])}}}", escape(text[1]), escape(text[2]), _number(text[3]),
                             _number(text[4]), _number(text[5]), escape(text[6]),
                             f"{_mark(comp.verdict if comp.has_stats else None)} {escape(text[7])}"])  # fmt: skip
        header = ["Variant", "Fraction", "$n_\\mathrm{train}$", "Mean", "Gain [95\\% CI]", r"$p_\mathrm{Holm}$", "Wins", "Verdict"]
        caption = " ".join([escape(_study_text.curves_caption(curves))] + [escape(c.summary()) + "." for c in curves])
        lines += _booktabs(caption, f"{_label(view.name)}-fractions-{number}", header, rows, "lrrrrrrl")
    return lines


def render(report: Report) -> str:
    lines = ["% suite verdict tables; needs \\usepackage{booktabs}"]
    lines += [f"% {label}: {value}" for label, value in provenance_lines(report)]
    lines.append("")
    for section in report.sections:
        lines += _table(section, report)
        refused = [c for c in section.comparisons if c.reason is not None]
        lines += [f"% refused {c.variant}: {c.reason}" for c in refused]
    if report.study is not None:
        lines += _study(report.study)
    if not report.sections:
        lines.append("% no variant has runs to compare yet")
    return "\n".join(lines) + "\n"
