"""Verdict reports for people and machines: markdown (CI job summaries), JSON, LaTeX (papers), HTML.

``build_report`` runs the verdict (``suite.verdict.compare``) over a store's runs and gathers the
provenance of those runs; ``render`` writes it in one of ``FORMATS``. Every format states the
provenance (suite version, git commits, devices, date), the statistics used and the unit of every
number. The JSON document follows ``report_schema.json`` (shipped next to this file) and carries its
``schema_version``; fields are only added within a major version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from suite import __version__, _stats
from suite.errors import SuiteError
from suite.verdict import DEFAULT_DELTA, VERDICTS, Comparison, compare

FORMATS = ("md", "json", "latex", "html")
FAIL_ON = ("worse", "not-holds")
SCHEMA_VERSION = "1.0"
SCHEMA_PATH = Path(__file__).with_name("report_schema.json")
MAKE_RUNS = "make some with `suite run --variant unet+se` (or resnet18+se, ...) or `suite demo`"

STATISTICS = {
    "unit": "per-fold difference d_f = variant - baseline, averaged over the seeds of fold f",
    "test": "corrected resampled t-test (Nadeau & Bengio 2003) on the k fold differences",
    "variance_factor": "1/k + n_test/n_train",
    "degrees_of_freedom": "k - 1",
    "sides": "one-sided: gain > 0 for holds, gain < 0 for worse",
    "alpha": _stats.ALPHA,
    "adjustment": "Holm, across the variants of one dataset and metric in this report",
    "ci": "95% two-sided, corrected standard error",
    "equivalence_ci": "90% two-sided, corrected standard error",
    "mde": f"minimal detectable effect at one-sided alpha {_stats.ALPHA}, power {_stats.POWER}",
    "default_delta": DEFAULT_DELTA,
    "rules": {
        "holds": "adjusted p < 0.05, gain >= delta, won >= k-1 of k folds",
        "worse": "adjusted p (gain < 0) < 0.05, gain <= -delta, lost >= k-1 of k folds",
        "no practical gain": "90% CI inside (-delta, +delta)",
        "inconclusive": "anything else, or refused (unpaired, missing or failed runs, k < 3): see reason",
    },
}


@dataclass
class Section:
    """The comparisons of one dataset and metric: one table, one Holm family."""

    dataset: str
    metric: str
    comparisons: list[Comparison]

    @property
    def delta(self) -> float:
        return self.comparisons[0].delta

    @property
    def title(self) -> str:
        return f"{self.dataset} · {self.metric}"

    def baselines(self) -> list[tuple[str, Comparison]]:
        """Each baseline once, with the first comparison that carries its mean."""
        seen: dict[str, Comparison] = {}
        for comp in self.comparisons:
            if comp.baseline not in seen or (
                seen[comp.baseline].baseline_mean is None and comp.baseline_mean is not None
            ):
                seen[comp.baseline] = comp
        return list(seen.items())


@dataclass
class Report:
    sections: list[Section]
    provenance: dict
    generated_at: str

    @property
    def comparisons(self) -> list[Comparison]:
        return [comp for section in self.sections for comp in section.comparisons]

    def failing(self, fail_on: str) -> list[Comparison]:
        """Comparisons that fail the gate: verdict "worse", or any verdict but "holds"."""
        if fail_on == "worse":
            return [c for c in self.comparisons if c.verdict == "worse"]
        return [c for c in self.comparisons if c.verdict != "holds"]

    def counts(self) -> dict[str, int]:
        return {label: sum(c.verdict == label for c in self.comparisons) for label in VERDICTS}


def build_report(
    runs: pd.DataFrame,
    metric: str | None = None,
    delta: float | None = None,
    baseline: str | None = None,
    dataset: str | None = None,
) -> Report:
    """The verdict of every variant in ``runs`` plus the provenance of the runs it rests on."""
    comparisons = compare(runs, metric=metric, delta=delta, baseline=baseline, dataset=dataset)
    used = runs[runs["dataset"].isin({c.dataset for c in comparisons})] if comparisons else runs.iloc[:0]
    specs = {c.variant for c in comparisons} | {c.baseline for c in comparisons}
    used = used[used["spec"].isin(specs)]
    generated = datetime.now(UTC).replace(microsecond=0).isoformat()
    return Report(sections(comparisons), run_provenance(used), generated)


def sections(comparisons: list[Comparison]) -> list[Section]:
    """Comparisons grouped by (dataset, metric), in their order."""
    grouped: dict[tuple[str, str], Section] = {}
    for comp in comparisons:
        grouped.setdefault((comp.dataset, comp.metric), Section(comp.dataset, comp.metric, [])).comparisons.append(comp)
    return list(grouped.values())


def run_provenance(runs: pd.DataFrame) -> dict:
    """What the numbers rest on: versions, git commits, devices and time span of ``runs``."""
    records = [p for p in runs.get("provenance", []) if isinstance(p, dict)]
    versions = [p.get("versions") or {} for p in records]

    def distinct(values: object) -> list[str]:
        return sorted({str(v) for v in values if v not in (None, "")})

    devices = []
    for device, prov in zip(runs.get("device", []), runs.get("provenance", [])):
        name = prov.get("device_name") if isinstance(prov, dict) else None
        devices.append(f"{device} ({name})" if name and name != device else device)
    return {
        "suite_version": __version__,
        "run_suite_versions": distinct(v.get("suite") for v in versions),
        "git_commits": distinct(p.get("git_commit") for p in records),
        "devices": distinct(devices),
        "torch_versions": distinct(v.get("torch") for v in versions),
        "cuda_versions": distinct(p.get("cuda") for p in records),
        "n_runs": int(len(runs)),
        "first_run_started": min(distinct(runs.get("started_at", [])), default=None),
        "last_run_finished": max(distinct(runs.get("finished_at", [])), default=None),
    }


def to_document(report: Report) -> dict:
    """The JSON document (see ``report_schema.json``)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": report.generated_at,
        "provenance": report.provenance,
        "statistics": STATISTICS,
        "verdict_counts": report.counts(),
        "comparisons": [comp.to_dict() for comp in report.comparisons],
    }


def render(report: Report, fmt: str) -> str:
    """The report as text in ``fmt`` (one of ``FORMATS``)."""
    from suite.reports import html, latex, markdown

    if fmt not in FORMATS:
        raise SuiteError(f"unknown report format {fmt!r}; formats: {', '.join(FORMATS)}")
    if fmt == "json":
        return json.dumps(to_document(report), indent=2, allow_nan=False) + "\n"
    renderers = {"md": markdown.render, "latex": latex.render, "html": html.render}
    return renderers[fmt](report)
