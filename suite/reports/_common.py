"""Text every report format shares: the statistics statement, the provenance lines, verdict counts."""

from __future__ import annotations

from suite import _stats
from suite.report import Report, Section
from suite.reports import _format
from suite.verdict import Comparison


def statistics_lines(section: Section) -> list[str]:
    """The test, rules and units behind one section's table, as plain sentences."""
    comps = section.comparisons
    tested = sum(c.has_stats for c in comps)
    delta = _format.value(section.delta, section.metric)
    return [
        f"Metric: {_format.metric_unit_text(section.metric)}; mean ± sd over all folds × seeds of the paired runs.",
        "Test: corrected resampled t-test (Nadeau & Bengio 2003) on per-fold differences averaged over seeds, "
        f"variance factor 1/k + n_test/n_train, df = k − 1, one-sided, Holm-adjusted across the {tested} tested "
        f"variant(s) of {section.dataset}/{section.metric}; p shown in the direction of the observed gain.",
        f"Gain: variant − baseline with its 95% CI (corrected SE). Practical-equivalence delta: ±{delta}.",
        f"Verdicts: holds = adjusted p < {_stats.ALPHA}, gain ≥ delta, wins ≥ k−1 of k folds; "
        "worse = the mirror; "
        "no practical gain = 90% CI inside ±delta; inconclusive = anything else "
        f"(MDE: smallest gain detectable at one-sided α {_stats.ALPHA}, power {_stats.POWER}).",
        "Cost: " + _format.cost_units(comps) + ".",
    ]


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
        f"{n} {label}" for label, n in counts.items()
    )


def table_header(metric: str) -> list[str]:
    """Column names of the verdict table (units in the statistics lines below it)."""
    unit = " (%)" if _format.decimals(metric) == 2 else ""
    return ["variant", "folds×seeds", f"{metric}{unit} mean ± sd", "gain [95% CI]", "p (Holm)", "folds won", "verdict",
            "params added", "GMACs added", "latency added"]  # fmt: skip


def verdict_text(comp: Comparison) -> str:
    """The verdict, with the MDE for an inconclusive result that has statistics."""
    if comp.verdict == "inconclusive" and comp.mde is not None:
        return f"inconclusive (MDE {_format.value(comp.mde, comp.metric)})"
    if comp.reason is not None:
        return "inconclusive (refused)"
    return comp.verdict
