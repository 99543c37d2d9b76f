"""Paired statistics across folds and seeds -> a verdict per variant against its baseline.

For each dataset and metric, every variant is compared with its baseline (the runs whose spec is the
variant's ``baseline``) on the same split manifest and recipe, cell by cell over (fold, seed):

1. ``d[f, s] = variant - baseline`` per cell; ``d_f`` = mean of ``d[f, s]`` over the seeds of fold f.
2. Corrected resampled t-test (Nadeau & Bengio 2003) on the k fold differences:
   ``t = mean(d_f) / sqrt((1/k + n_test/n_train) * var(d_f))``, ``df = k - 1``, one-sided
   (gain > 0 for "holds", gain < 0 for "worse"); ``n_test/n_train`` is the rows' mean
   ``n_val / n_train`` (``1/(k-1)`` for plain k-fold).
3. Holm adjustment of each direction's p-values across the variants of one report with the same
   dataset and metric (filters such as ``--baseline`` change that family).
4. 95% CI of the gain (two-sided, corrected SE, t with k-1 df); 90% CI for the equivalence rule;
   folds won (``d_f > 0``) out of k; minimal detectable effect at one-sided alpha 0.05, power 0.8.

Why folds and not all k*r cells. Bouckaert & Frank (2004) correct repeated k-fold CV with all k*r
differences, variance factor ``1/(k*r) + n_test/n_train`` and ``df = k*r - 1``. Their repeats draw a
new partition each time, so two cells share a test set only by chance. Here every seed reuses the
same manifest: the r cells of a fold share both their test set and their training set, and differ
only by init/order/augmentation noise. Their differences are far more correlated than the
Bouckaert-Frank model assumes, so the k*r form would understate the variance and overstate
significance. Averaging over seeds within a fold first removes that within-fold dependence, leaves
k fold differences whose only correlation is the training-set overlap Nadeau & Bengio correct for,
and uses ``df = k - 1`` honestly. Seeds still help: they shrink the seed noise in each ``d_f``.
With one seed both forms coincide.

Labels (first that applies): **holds**: adjusted p < 0.05, gain >= delta and won >= k-1 of k folds;
**worse**: the mirror image; **no practical gain**: the 90% CI inside (-delta, +delta);
**inconclusive**: anything else, shown with the minimal detectable effect (MDE).
A comparison is refused (inconclusive, ``reason`` set, no p or CI) when the variant and baseline
runs are not on the same manifest and recipe, a cell is missing or failed, or k < 3.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from suite import _pairing, _stats
from suite._pairing import RunSet
from suite._stats import HOLDS, INCONCLUSIVE, NO_PRACTICAL_GAIN, WORSE
from suite.errors import SuiteError

VERDICTS = (HOLDS, INCONCLUSIVE, NO_PRACTICAL_GAIN, WORSE)
# Region of practical equivalence per metric, in the metric's own unit.
DEFAULT_DELTA = {"accuracy": 0.5, "macro_f1": 0.5, "dice": 0.01, "iou": 0.01}
# "%" metrics are stored in percent (0-100), so their gains are percentage points; the rest are 0-1.
METRIC_UNITS = {"accuracy": "%", "macro_f1": "%", "dice": "fraction 0-1", "iou": "fraction 0-1"}
_DEFAULT_METRIC_BY_TASK = {"cls": "accuracy", "seg": "dice"}


@dataclass
class Comparison:
    """One variant against its baseline on one dataset, metric, split manifest and recipe."""

    dataset: str
    metric: str
    baseline: str
    variant: str
    module: str
    points: str
    manifest_hash: str
    recipe_hash: str
    delta: float
    verdict: str = INCONCLUSIVE
    reason: str | None = None  # why no statistics were computed (refused comparison)
    n_folds: int = 0  # k of the split
    n_seeds: int = 0  # repeats per fold
    test_train_ratio: float | None = None  # n_test / n_train in the variance correction
    baseline_mean: float | None = None  # over all paired (fold, seed) runs
    baseline_sd: float | None = None  # sample sd over those runs
    variant_mean: float | None = None
    variant_sd: float | None = None
    fold_gains: list[float] = field(default_factory=list)  # seed-averaged difference per fold
    gain: float | None = None  # mean of fold_gains, in the metric's unit
    se: float | None = None  # corrected standard error of the gain
    ci95: tuple[float, float] | None = None
    ci90: tuple[float, float] | None = None
    t: float | None = None
    df: int | None = None
    p: float | None = None  # one-sided, H1: gain > 0
    p_adjusted: float | None = None  # Holm across the family
    p_worse: float | None = None  # one-sided, H1: gain < 0
    p_worse_adjusted: float | None = None
    folds_won: int | None = None
    folds_lost: int | None = None
    mde: float | None = None  # minimal detectable effect, one-sided alpha 0.05, power 0.8
    params: int | None = None  # exact parameter count of the variant
    params_added: int | None = None
    params_added_pct: float | None = None  # in % of the baseline's parameters
    gmacs: float | None = None  # fvcore GMACs of the variant, batch 1, recipe image size
    gmacs_added: float | None = None
    gmacs_added_pct: float | None = None
    latency_ms: float | None = None  # median forward latency of the variant, batch 1
    latency_added_ms: float | None = None  # only when variant and baseline ran on one device
    latency_added_pct: float | None = None
    latency_device: str | None = None
    latency_paired: bool = False  # latency added = paired difference to the baseline timed interleaved with it

    @property
    def unit(self) -> str:
        return METRIC_UNITS.get(self.metric, "")

    @property
    def has_stats(self) -> bool:
        return self.reason is None and self.gain is not None

    @property
    def shown_p(self) -> float | None:
        """Holm-adjusted one-sided p in the direction of the observed gain."""
        if not self.has_stats:
            return None
        return self.p_worse_adjusted if self.gain < 0 else self.p_adjusted

    def to_dict(self) -> dict:
        """JSON-ready dict: tuples become lists, NaN and infinities become None."""
        return {key: _jsonable(value) for key, value in asdict(self).items()} | {"unit": self.unit}


def _jsonable(value: object) -> object:
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def default_metric(rows: pd.DataFrame) -> str:
    """accuracy for classification datasets, dice for segmentation, from the val_ columns present."""
    for metric in ("accuracy", "dice"):
        if f"val_{metric}" in rows and rows[f"val_{metric}"].notna().any():
            return metric
    for column in rows.columns:
        if column.startswith("val_") and rows[column].notna().any():
            return column.removeprefix("val_")
    tasks = {recipe.get("task") for recipe in rows.get("recipe", []) if isinstance(recipe, dict)}
    return _DEFAULT_METRIC_BY_TASK.get(tasks.pop() if len(tasks) == 1 else "", "accuracy")


def available_metrics(rows: pd.DataFrame) -> list[str]:
    return sorted(c.removeprefix("val_") for c in rows.columns if c.startswith("val_") and rows[c].notna().any())


def compare(
    runs: pd.DataFrame,
    metric: str | None = None,
    delta: float | None = None,
    baseline: str | None = None,
    dataset: str | None = None,
) -> list[Comparison]:
    """Every variant in ``runs`` against its baseline; one ``Comparison`` per dataset and setting.

    ``metric``: default accuracy for classification datasets, dice for segmentation. ``delta``:
    default ``DEFAULT_DELTA[metric]``. ``baseline`` / ``dataset`` keep only those variants.
    Raises ``SuiteError`` for a dataset, baseline or metric that ``runs`` does not have.
    """
    if runs.empty:
        return []
    metric = metric.lower() if metric else None
    runs = _select(runs, "dataset", dataset)
    if baseline is not None:
        variants = runs[runs["spec"] != runs["baseline"]]
        if not (variants["baseline"] == baseline.lower()).any():
            choices = ", ".join(sorted(variants["baseline"].unique())) or "none (no variant runs yet)"
            raise SuiteError(f"no variant of baseline {baseline!r} in the store; baselines with variants: {choices}")
        runs = runs[runs["baseline"] == baseline.lower()]
    if delta is not None and not delta > 0:
        raise SuiteError(f"delta must be a positive number in the metric's unit, got {delta}")
    by_dataset = [
        (name, rows)
        for name, rows in sorted(runs.groupby("dataset"), key=lambda item: item[0])
        if (rows["spec"] != rows["baseline"]).any()
    ]
    if metric is None:
        chosen = {str(name): default_metric(rows) for name, rows in by_dataset}
    else:
        chosen = {str(name): metric for name, rows in by_dataset if metric in available_metrics(rows)}
        if not chosen:
            raise SuiteError(
                f"no runs report metric {metric!r}; "
                f"metrics in the store: {', '.join(available_metrics(runs)) or 'none'}"
            )
    if delta is not None and len(set(chosen.values())) > 1:
        raise SuiteError(
            f"one --delta cannot serve metrics {', '.join(sorted(set(chosen.values())))} at once; "
            "pick one with --metric or --dataset"
        )
    comparisons: list[Comparison] = []
    for name, rows in by_dataset:
        if str(name) not in chosen:
            continue
        family = _compare_dataset(rows, str(name), chosen[str(name)], _delta_for(chosen[str(name)], delta))
        _adjust_and_label(family)
        comparisons.extend(family)
    return comparisons


def _select(runs: pd.DataFrame, column: str, value: str | None) -> pd.DataFrame:
    if value is None:
        return runs
    chosen = runs[runs[column].str.lower() == value.lower()]
    if chosen.empty:
        raise SuiteError(
            f"no runs for {column} {value!r}; {column}s in the store: {', '.join(sorted(runs[column].unique()))}"
        )
    return chosen


def _delta_for(metric: str, delta: float | None) -> float:
    if delta is not None:
        return float(delta)
    if metric not in DEFAULT_DELTA:
        raise SuiteError(
            f"no default delta for metric {metric!r} (defaults: "
            + ", ".join(f"{m}={d}" for m, d in DEFAULT_DELTA.items())
            + "); pass --delta in the metric's unit"
        )
    return DEFAULT_DELTA[metric]


def _compare_dataset(rows: pd.DataFrame, dataset: str, metric: str, delta: float) -> list[Comparison]:
    """One comparison per (variant, manifest, recipe) among the dataset's runs."""
    run_sets = RunSet.group(rows, metric)
    found = []
    for spec, manifest, recipe in sorted(run_sets):
        var = run_sets[(spec, manifest, recipe)]
        base_name = var.baseline
        if spec == base_name:
            continue
        base = run_sets.get((base_name, manifest, recipe))
        comp = Comparison(
            dataset=dataset,
            metric=metric,
            baseline=base_name,
            variant=str(spec),
            module=var.module,
            points=var.points,
            manifest_hash=str(manifest),
            recipe_hash=str(recipe),
            delta=delta,
            n_folds=var.k,
            n_seeds=len(var.seeds),
            **_pairing.cost(var, base),
        )
        base_elsewhere = any(key[0] == base_name for key in run_sets)
        comp.reason = _pairing.refusal(comp.variant, base_name, var, base, base_elsewhere)
        comp.variant_mean, comp.variant_sd = var.mean_sd()
        if base is not None:
            comp.baseline_mean, comp.baseline_sd = base.mean_sd()
        if comp.reason is None:
            _add_stats(comp, var, base)
        found.append(comp)
    return found


def _sd(values: np.ndarray) -> float | None:
    return float(np.std(values, ddof=1)) if values.size > 1 else None


def _add_stats(comp: Comparison, var: RunSet, base: RunSet) -> None:
    variant, baseline = var.matrix(), np.array([[base.values[(f, s)] for s in var.seeds] for f in range(var.k)])
    fold_gains = (variant - baseline).mean(axis=1)
    ratio = _pairing.test_train_ratio(var, base)
    test = _stats.corrected_t_test(fold_gains, ratio)
    ci95, ci90 = test.interval(_stats.CI_LEVEL), test.interval(_stats.EQUIVALENCE_LEVEL)
    comp.test_train_ratio = ratio
    comp.baseline_mean, comp.baseline_sd = float(baseline.mean()), _sd(baseline)
    comp.variant_mean, comp.variant_sd = float(variant.mean()), _sd(variant)
    comp.fold_gains = [float(g) for g in fold_gains]
    comp.gain, comp.se, comp.t, comp.df = float(test.gain), float(test.se), float(test.t), test.df
    comp.ci95 = (float(ci95[0]), float(ci95[1]))
    comp.ci90 = (float(ci90[0]), float(ci90[1]))
    comp.p, comp.p_worse = float(test.p_gain), float(test.p_worse)
    comp.folds_won, comp.folds_lost = int((fold_gains > 0).sum()), int((fold_gains < 0).sum())
    comp.mde = float(test.mde())


def _adjust_and_label(family: list[Comparison]) -> None:
    """Holm across the tested comparisons of one dataset and metric, then the verdict labels."""
    tested = [c for c in family if c.has_stats]
    if not tested:
        return
    p_gain = _stats.holm(np.array([c.p for c in tested]))
    p_worse = _stats.holm(np.array([c.p_worse for c in tested]))
    for comp, adjusted_gain, adjusted_worse in zip(tested, p_gain, p_worse):
        comp.p_adjusted, comp.p_worse_adjusted = float(adjusted_gain), float(adjusted_worse)
        label = _stats.classify(
            adjusted_gain,
            adjusted_worse,
            comp.gain,
            comp.ci90,
            comp.folds_won,
            comp.folds_lost,
            comp.n_folds,
            comp.delta,
        )
        comp.verdict = str(label)
