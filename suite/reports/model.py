"""Runs -> one ``Report``: the model every view renders (terminal, markdown, JSON, LaTeX, HTML, dashboard).

``build_report`` runs the verdict over the runs of a store, once, with a declared Holm family (a planned
grid or study, or ad hoc: every variant of a baseline on a dataset and metric in the whole store), then
selects what to show (``dataset`` / ``baseline`` filters never change a family) and gathers the
provenance of the runs it rests on. Each section also carries the descriptive tables of
``suite.reports.metric_tables``: every validation metric, the official test split (apart, never in a
verdict) and per-image percentiles. Because every view reads the same ``Report``, the same store gives
the same verdict, p and CI in the summary after ``suite run``, ``suite compare``, every ``suite report``
format and the dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd

from suite import __version__, _stats
from suite.errors import SuiteError
from suite.metric_catalog import METRIC_CATALOG
from suite.per_sample import PERCENTILES
from suite.reports import _settings, metric_tables
from suite.reports.metric_tables import PerImage, SpecValues
from suite.reports.study_model import StudyView, study_view
from suite.reports.style import VERDICT_MEANINGS
from suite.studies.calibrate import Calibration
from suite.studies.record import Study
from suite.verdict import Comparison, Plan, compare, compare_with_references
from suite.verdict_names import CAPACITY_GATES, GATES, VERDICTS

MAKE_RUNS = "make some with `suite run --variant unet+se` (or resnet18+se, ...) or `suite demo`"
AD_HOC = "ad hoc"

def statistics_statement() -> dict:
    """The test, levels and rules behind every verdict, in words and numbers (the JSON ``statistics``)."""
    return {
        "unit": "per-fold improvement d_f = variant - baseline (baseline - variant for lower-is-better metrics), "
        "averaged over the seeds of fold f",
        "test": "corrected resampled t-test (Nadeau & Bengio 2003) on the k fold differences",
        "variance_factor": "1/k + n_test/n_train",
        "standard_error_floor": "one validation sample's weight in a fold mean (span / n_val), for a discrete metric "
        "(accuracy, macro F1) and for exactly equal fold differences",
        "degrees_of_freedom": "k - 1",
        "sides": f"two-sided at {_stats.ALPHA:g}: holds and worse each spend {_stats.SIDE_ALPHA:g}",
        "alpha": _stats.ALPHA,
        "adjustment": "Holm, across the declared family of each comparison (see family)",
        "families": "a planned grid or study: its variants as planned (untestable ones count as p = 1); "
        "ad hoc: every variant of one baseline on one dataset and metric in the whole store",
        "ci": f"{_stats.CI_LEVEL:.0%} two-sided, corrected standard error (excludes 0 exactly when the unadjusted test rejects)",
        "equivalence_ci": f"{_stats.EQUIVALENCE_LEVEL:.0%} two-sided, corrected standard error",
        "posterior": "correlated Bayesian t-test (Corani & Benavoli 2015): Student posterior, df = k - 1, "
        "scale = the corrected standard error; P(gain > delta), P(|gain| < delta), P(gain < -delta)",
        "mde": f"minimal detectable effect of the whole rule: the true gain at which 'holds' comes out with "
        f"probability {_stats.POWER:g}, by simulation at the observed fold sd, k and family size",
        "default_delta": {name: info.default_delta for name, info in METRIC_CATALOG.items()},
        "directions": {name: info.direction for name, info in METRIC_CATALOG.items()},
        "units": {name: info.unit for name, info in METRIC_CATALOG.items()},
        "implementations": {name: info.implementation for name, info in METRIC_CATALOG.items()},
        "empty_masks": {name: info.empty for name, info in METRIC_CATALOG.items() if info.empty},
        "per_image": f"percentiles {', '.join(map(str, PERCENTILES))} of the validation images' values, each image "
        "paired with the baseline's on the same fold and seeds, its seeds averaged; gain oriented so that "
        "positive is better",
        "test_split": "the official test split, where the dataset has one: every run's model scored once on it "
        "after training, shown as mean ± sd over the runs; never part of a verdict",
        "rules": dict(VERDICT_MEANINGS),
    }


@dataclass
class Setting:
    """One baseline on one split and recipe, and the variants compared with it (one block of rows)."""

    baseline: str
    label: str  # what sets it apart from the other settings of this baseline in the section ("" if alone)
    comparisons: list[Comparison]
    calibration: Calibration | None = None  # ``suite calibrate`` on this dataset, baseline, recipe, k, metric

    @property
    def baseline_mean(self) -> float | None:
        return next((c.baseline_mean for c in self.comparisons if c.baseline_mean is not None), None)

    @property
    def baseline_sd(self) -> float | None:
        return next((c.baseline_sd for c in self.comparisons if c.baseline_mean is not None), None)

    @property
    def title(self) -> str:
        return f"{self.baseline} (baseline{'; ' + self.label if self.label else ''})"


@dataclass
class Section:
    """The comparisons of one dataset and metric: one table."""

    dataset: str
    metric: str
    settings: list[Setting]
    folds: str = "unrecorded"  # the kind of k-fold split the runs used: contiguous, stratified, grouped, ...
    validation: list[SpecValues] = field(default_factory=list)  # every validation metric per spec
    test: list[SpecValues] = field(default_factory=list)  # the official test split: descriptive, no verdict
    per_image: list[PerImage] = field(default_factory=list)  # per-image percentiles of ``metric``
    scoring: str = ""  # how the boundary metrics were scored (NSD tolerance, spacing), "" if not recorded

    @property
    def comparisons(self) -> list[Comparison]:
        return [comp for setting in self.settings for comp in setting.comparisons]

    @property
    def delta(self) -> float:
        return self.comparisons[0].delta

    @property
    def title(self) -> str:
        return f"{self.dataset} · {self.metric}"

    @property
    def has_capacity(self) -> bool:
        """Whether any variant of the section has a capacity-matched control."""
        return any(c.control is not None for c in self.comparisons)

    def calibrations(self) -> list[Calibration]:
        """The calibrations of this section's settings, each once."""
        found = {s.calibration.id: s.calibration for s in self.settings if s.calibration is not None}
        return list(found.values())

    def families(self) -> list[tuple[str, int]]:
        """(family, size) of every Holm family with a comparison in this section, in order."""
        return list(dict.fromkeys((c.family, c.family_size) for c in self.comparisons))


@dataclass
class Report:
    sections: list[Section]
    provenance: dict
    generated_at: str
    scope: str  # AD_HOC, or the name of the planned grid / study whose family was used
    selection: dict = field(default_factory=dict)  # the filters that chose what is shown
    statistics: dict = field(default_factory=statistics_statement)
    study: StudyView | None = None  # the study whose family was used, with its own tables

    @property
    def comparisons(self) -> list[Comparison]:
        return [comp for section in self.sections for comp in section.comparisons]

    def failing(self, gate: str) -> list[Comparison]:
        """Comparisons whose verdict the gate (a key of ``GATES``) does not let through; a capacity gate
        also fails a variant that does not beat its capacity-matched control (or has none)."""
        capacity = gate in CAPACITY_GATES
        return [
            c for c in self.comparisons
            if c.verdict not in GATES[gate] or (capacity and not c.beyond_capacity)
        ]  # fmt: skip

    def counts(self) -> dict[str, int]:
        return {label: sum(c.verdict == label for c in self.comparisons) for label in VERDICTS}


def build_report(
    runs: pd.DataFrame,
    metric: str | None = None,
    delta: float | None = None,
    baseline: str | None = None,
    dataset: str | None = None,
    plan: Plan | None = None,
    study: Study | None = None,
    calibrations: list[Calibration] = (),
    controls: list[dict] = (),
) -> Report:
    """The verdict of every variant in ``runs`` (failed runs included, so they refuse rather than vanish),
    adjusted in its family, filtered to ``dataset`` / ``baseline``, with the provenance of the runs used
    and, per setting, the latest matching calibration of ``calibrations``.

    ``study``: use its family (its ``plan``) and add its own tables (position table, effects, fraction
    curve) to the report."""
    if study is not None:
        plan = study.plan()
    if dataset is not None:  # families never span datasets, so this filter may come first
        runs = _dataset_runs(runs, dataset)
    comparisons = compare(_without_controls(runs, controls), metric=metric, delta=delta, plan=plan)
    comparisons = _select(comparisons, runs, "baseline", baseline)
    _add_capacity(comparisons, runs, list(controls), delta, plan)
    specs = {c.variant for c in comparisons} | {c.baseline for c in comparisons}
    specs |= {c.capacity.baseline for c in comparisons if c.capacity is not None}
    used = runs[runs["spec"].isin(specs) & runs["dataset"].isin({c.dataset for c in comparisons})]
    generated = datetime.now(UTC).replace(microsecond=0).isoformat()
    selection = {name: value for name, value in (("dataset", dataset), ("baseline", baseline)) if value}
    view = study_view(study, comparisons, runs) if study is not None else None
    sections = _sections(comparisons, runs, list(calibrations))
    return Report(sections, run_provenance(used), generated, plan.name if plan else AD_HOC, selection, study=view)


def _without_controls(runs: pd.DataFrame, controls: list[dict]) -> pd.DataFrame:
    """The runs less those of capacity-matched controls: a control is not a claim of its own (no verdict,
    no place in a family, no gate); it shows in the capacity column of the variant it controls."""
    trained = {(c["control"], c["dataset"]) for c in controls if c["control"] != c["baseline"]}
    if not trained or runs.empty:
        return runs
    keep = [(spec, dataset) not in trained for spec, dataset in zip(runs["spec"], runs["dataset"])]
    return runs[keep]


def _add_capacity(
    comparisons: list[Comparison], runs: pd.DataFrame, controls: list[dict], delta: float | None, plan: Plan | None
) -> None:
    """Each comparison with a capacity-matched control gets it and its verdict against it, adjusted by
    Holm across the controls of the report's variants per dataset and metric (their own family)."""
    by_key = {(c["variant"], c["dataset"], c["recipe_hash"]): c for c in controls}
    family = f"capacity controls of {plan.name}" if plan else "capacity controls in the store"
    for metric in dict.fromkeys(c.metric for c in comparisons):
        chosen = [c for c in comparisons if c.metric == metric and (c.variant, c.dataset, c.recipe_hash) in by_key]
        if not chosen:
            continue
        references = {(c.variant, c.dataset, c.recipe_hash): by_key[(c.variant, c.dataset, c.recipe_hash)]["control"] for c in chosen}
        rows = runs[runs["dataset"].isin({c.dataset for c in chosen})]
        found = {
            (f.variant, f.dataset, f.manifest_hash, f.recipe_hash): f
            for f in compare_with_references(rows, references, metric, delta if delta is not None else chosen[0].delta, family)
        }
        for comp in chosen:
            comp.control = by_key[(comp.variant, comp.dataset, comp.recipe_hash)]
            comp.capacity = found.get((comp.variant, comp.dataset, comp.manifest_hash, comp.recipe_hash))


def _dataset_runs(runs: pd.DataFrame, dataset: str) -> pd.DataFrame:
    chosen = runs[runs["dataset"].str.lower() == dataset.lower()]
    if chosen.empty:
        raise SuiteError(
            f"no runs for dataset {dataset!r}; datasets in the store: {', '.join(sorted(runs['dataset'].unique()))}"
        )
    return chosen


def _select(comparisons: list[Comparison], runs: pd.DataFrame, column: str, value: str | None) -> list[Comparison]:
    if value is None:
        return comparisons
    chosen = [c for c in comparisons if getattr(c, column).lower() == value.lower()]
    if not chosen:
        present = sorted({getattr(c, column) for c in comparisons}) or sorted(runs[column].unique())
        raise SuiteError(
            f"no variant comparison for {column} {value!r}; {column}s with variants: {', '.join(present) or 'none'}"
        )
    return chosen


def _sections(comparisons: list[Comparison], runs: pd.DataFrame, calibrations: list[Calibration]) -> list[Section]:
    """Comparisons grouped by (dataset, metric), then by baseline setting, in their order."""
    grouped: dict[tuple[str, str], list[Comparison]] = {}
    for comp in comparisons:
        grouped.setdefault((comp.dataset, comp.metric), []).append(comp)
    sections = []
    for (dataset, metric), comps in grouped.items():
        blocks = _settings.group(comps, runs)
        settings = [(label, members) for _, label, members in blocks]
        sections.append(
            Section(
                dataset,
                metric,
                [Setting(*item, _calibration(item[2][0], calibrations)) for item in blocks],
                _fold_kinds(comps, runs),
                validation=metric_tables.spec_values(runs, settings, "val_"),
                test=metric_tables.spec_values(runs, settings, "test_"),
                per_image=metric_tables.per_image(runs, settings),
                scoring=metric_tables.scoring_text(runs, comps),
            )
        )
    return sections


def _calibration(comp: Comparison, calibrations: list[Calibration]) -> Calibration | None:
    found = [c for c in calibrations if c.applies_to(comp.dataset, comp.baseline, comp.recipe_hash, comp.n_folds, comp.metric)]
    return max(found, key=lambda c: c.created_at) if found else None


def _fold_kinds(comparisons: list[Comparison], runs: pd.DataFrame) -> str:
    """The kinds of split the comparisons' runs recorded (``Manifest.kind``), with k: "contiguous, k=5"."""
    manifests = {c.manifest_hash: c.n_folds for c in comparisons}
    used = runs[runs["manifest_hash"].isin(manifests)]
    kinds = sorted(
        {
            f"{prov.get('folds', 'unrecorded') if isinstance(prov, dict) else 'unrecorded'}, k={manifests[manifest]}"
            for prov, manifest in zip(used["provenance"], used["manifest_hash"])
        }
    )
    return "; ".join(kinds) or "unrecorded"


def _metric_packages() -> list[str]:
    """The distributions that compute the catalog's metrics (torchmetrics, monai, scikit-image)."""
    return sorted({info.package for info in METRIC_CATALOG.values() if info.package})


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
        "metric_packages": {name: distinct(v.get(name) for v in versions) for name in _metric_packages()},
        "git_commits": distinct(p.get("git_commit") for p in records),
        "devices": distinct(devices),
        "torch_versions": distinct(v.get("torch") for v in versions),
        "cuda_versions": distinct(p.get("cuda") for p in records),
        "n_runs": int(len(runs)),
        "first_run_started": min(distinct(runs.get("started_at", [])), default=None),
        "last_run_finished": max(distinct(runs.get("finished_at", [])), default=None),
    }
