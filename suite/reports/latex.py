"""LaTeX report: one booktabs table per dataset and metric, ready to ``\\input`` into a paper.

Needs ``\\usepackage{booktabs}`` in the preamble; everything else is plain LaTeX (verdict marks are
math symbols). Names are escaped, so ``vit_tiny+se(rd_ratio=0.25)`` prints as written.
"""

from __future__ import annotations

from suite import _stats
from suite.report import Report, Section
from suite.reports import _format
from suite.reports._common import provenance_lines

MARKS = {"holds": r"$\uparrow$", "worse": r"$\downarrow$", "no practical gain": r"$\approx$", "inconclusive": "?"}
_SPECIALS = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}  # fmt: skip
_HEADER = [
    "Gain [95\\% CI]",
    r"$p_\mathrm{Holm}$",
    "Wins",
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
    unit = "\\%" if _format.decimals(metric) == 2 else "fraction 0--1"
    grids = ", ".join(sorted({_format.runs(c) for c in comps}))
    delta = _format.value(section.delta, metric)
    devices = ", ".join(report.provenance["devices"]) or "not recorded"
    commits = ", ".join(report.provenance["git_commits"]) or "not recorded"
    holds = f"{MARKS['holds']} holds ($p<{_stats.ALPHA}$, gain $\\geq$ {delta}, wins $\\geq k-1$ of $k$ folds)"
    return (
        f"{escape(section.dataset)}, {escape(metric)} ({unit}): "
        f"mean $\\pm$ sd over folds $\\times$ seeds ({escape(grids)}). "
        "Gain: variant $-$ baseline with 95\\% CI; $p$: corrected resampled $t$-test (Nadeau \\& Bengio 2003) on "
        "per-fold differences averaged over seeds, one-sided in the direction of the gain, Holm-adjusted across the "
        f"variants of this table. Marks: {holds}, {MARKS['worse']} worse (the mirror), "
        f"{MARKS['no practical gain']} no practical gain (90\\% CI inside $\\pm${delta}), ? inconclusive. "
        "Cost added over the baseline: parameters, fvcore GMACs (batch 1), median latency in ms "
        f"(batch 1, {escape(_latency_devices(section))}). Runs: suite {escape(report.provenance['suite_version'])}, "
        f"commit {escape(commits)}, {escape(devices)}."
    )


def _latency_devices(section: Section) -> str:
    return (
        ", ".join(sorted({c.latency_device for c in section.comparisons if c.latency_device})) or "device not recorded"
    )


def _table(section: Section, report: Report) -> list[str]:
    metric = section.metric
    lines = [
        r"\begin{table}[t]",
        r"\centering",
        r"\small",
        rf"\caption{{{_caption(section, report)}}}",
        rf"\label{{tab:suite-{_label(section.dataset)}-{_label(metric)}}}",
        r"\begin{tabular}{lrrrccrrr}",
        r"\toprule",
        " & ".join(["Variant", escape(metric), *_HEADER]) + r" \\",
        r"\midrule",
    ]
    for index, (baseline, first) in enumerate(section.baselines()):
        if index:
            lines.append(r"\midrule")
        mean = _number(_format.mean_sd(first.baseline_mean, first.baseline_sd, metric))
        lines.append(" & ".join([rf"\texttt{{{escape(baseline)}}} (baseline)", mean] + [""] * 7) + r" \\")
        for comp in (c for c in section.comparisons if c.baseline == baseline):
            cells = [
                rf"\quad\texttt{{{escape(comp.variant)}}}",
                _number(_format.mean_sd(comp.variant_mean, comp.variant_sd, metric)),
                _number(_format.gain_ci(comp)),
                _number(_format.p_value(comp.shown_p)),
                _number(_format.folds_won(comp)),
                MARKS[comp.verdict],
                _number(_format.params_added(comp)),
                _number(_format.gmacs_added(comp)),
                _number(_format.latency_added(comp).replace(" ms", "")),
            ]
            lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}", ""]
    return lines


def render(report: Report) -> str:
    lines = ["% suite verdict tables; needs \\usepackage{booktabs}"]
    lines += [f"% {label}: {value}" for label, value in provenance_lines(report)]
    lines.append("")
    for section in report.sections:
        lines += _table(section, report)
        refused = [c for c in section.comparisons if c.reason is not None]
        lines += [f"% refused {c.variant}: {c.reason}" for c in refused]
    if not report.sections:
        lines.append("% no variant has runs to compare yet")
    return "\n".join(lines) + "\n"
