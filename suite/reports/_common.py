"""Text every view shares: the table header, verdict wording, the statistics and family statement,
the provenance lines and the verdict counts."""

from __future__ import annotations

from suite import _stats
from suite.metric_catalog import metric_info
from suite.reports import _format
from suite.reports.model import AD_HOC, Report, Section
from suite.reports.style import VERDICT_MEANINGS
from suite.verdict import Comparison
from suite.verdict_names import INCONCLUSIVE

HEADER = ("variant", "folds×seeds", "mean ± sd", "gain [95% CI]", "p (Holm)", "folds won",
          "P(>δ / ≈ / <−δ)", "verdict", "params added", "GMACs added", "latency added")  # fmt: skip


def table_header(metric: str) -> list[str]:
    """Column names of the verdict table; the metric's unit goes on its mean column."""
    unit = " (%)" if metric_info(metric).unit == "%" else ""
    return [name if name != "mean ± sd" else f"{metric}{unit} mean ± sd" for name in HEADER]


def verdict_text(comp: Comparison) -> str:
    """The verdict, with the MDE of the rule for an inconclusive result that has statistics."""
    if comp.reason is not None:
        return "inconclusive (refused)"
    if comp.verdict == INCONCLUSIVE and comp.mde is not None:
        return f"inconclusive (MDE {_format.value(comp.mde, comp.metric)})"
    return comp.verdict


def row_cells(comp: Comparison) -> list[str]:
    """The cells after the variant name, in ``HEADER`` order, as plain text."""
    return [
        _format.runs(comp),
        _format.mean_sd(comp.variant_mean, comp.variant_sd, comp.metric),
        _format.gain_ci(comp),
        _format.p_value(comp.shown_p),
        _format.folds_won(comp),
        _format.posterior(comp),
        verdict_text(comp),
        _format.params_added(comp),
        _format.gmacs_added(comp),
        _format.latency_added(comp),
    ]


def family_label(name: str, size: int) -> str:
    """One Holm family with its size: ``every unet variant on shapes · dice in the store (4 comparisons)``."""
    return f"{name} ({size} comparison{'s' if size != 1 else ''})"


def family_text(section: Section) -> str:
    return "; ".join(family_label(name, size) for name, size in section.families())


def statistics_lines(section: Section) -> list[str]:
    """The test, family, rules and units behind one section's table, as plain sentences."""
    comps = section.comparisons
    info = metric_info(section.metric)
    delta = _format.value(section.delta, section.metric)
    floored = [c.variant for c in comps if c.se_floored]
    lines = [
        f"Metric: {info.unit_text}; mean ± sd over all folds × seeds of the paired runs.",
        f"Folds: {section.folds} (the kind of k-fold split: contiguous blocks for ordered slices, grouped where a "
        "card knows which samples belong together, stratified by class, or random).",
        "Test: corrected resampled t-test (Nadeau & Bengio 2003) on per-fold differences averaged over seeds, "
        f"variance factor 1/k + n_test/n_train, df = k − 1, two-sided at {_stats.ALPHA:g} "
        f"({_stats.SIDE_ALPHA:g} per direction), Holm-adjusted within the family: {family_text(section)}.",
        f"Gain: oriented so that positive is better ({info.direction}), with its {_stats.CI_LEVEL:.0%} CI "
        f"(corrected SE). Practical-equivalence delta: ±{delta}.",
        "P(>δ / ≈ / <−δ): posterior probabilities of a gain above delta, inside ±delta and below −delta "
        "(correlated Bayesian t-test, Corani & Benavoli 2015).",
        "Verdicts: " + "; ".join(f"{label} = {meaning}" for label, meaning in VERDICT_MEANINGS.items())
        + f" (MDE: the true gain at which the rule says holds with probability {_stats.POWER:g}).",
        "Cost: " + _format.cost_units(comps) + ".",
    ]
    lines += [f"{calibration.summary()}." for calibration in section.calibrations()]
    if floored:
        lines.append(
            "Standard error floored at the metric's resolution (one validation sample) for: " + ", ".join(floored) + "."
        )
    return lines


def scope_text(report: Report) -> str:
    """Which family rule the report used, in one sentence."""
    if report.scope == AD_HOC:
        return ("Families: ad hoc, every variant of one baseline on one dataset and metric in the whole store "
                "(filters choose what is shown, never the family).")  # fmt: skip
    return f"Family: the planned {report.scope} (its variants as planned; filters choose what is shown)."


def provenance_lines(report: Report) -> list[tuple[str, str]]:
    """(label, value) pairs naming where the numbers came from."""
    prov = report.provenance

    def joined(values: list[str]) -> str:
        return ", ".join(values) if values else "not recorded"

    span = f"{prov.get('first_run_started') or '?'} to {prov.get('last_run_finished') or '?'}"
    return [
        ("report generated", f"{report.generated_at} by suite {prov['suite_version']}"),
        ("runs", f"{prov['n_runs']} runs, {span}"),
        ("suite version of the runs", joined(prov["run_suite_versions"])),
        ("git commit(s)", joined(prov["git_commits"])),
        ("device(s)", joined(prov["devices"])),
        ("torch / CUDA build", f"{joined(prov['torch_versions'])} / {joined(prov['cuda_versions'])}"),
    ]


def counts_text(report: Report) -> str:
    counts = report.counts()
    return f"{len(report.comparisons)} variant comparison(s): " + " · ".join(
        f"{n} {label}" for label, n in counts.items() if n
    )
