"""Paired statistics across folds and seeds -> a verdict per variant against its baseline.

For each dataset and metric, every variant is compared with its baseline (the runs whose spec is the
variant's ``baseline``) on the same split manifest and recipe, cell by cell over (fold, seed):

1. ``d[f, s] = variant - baseline`` per cell (``baseline - variant`` for a lower-is-better metric, so a
   positive gain is always an improvement); ``d_f`` = mean of ``d[f, s]`` over the seeds of fold f.
2. Corrected resampled t-test (Nadeau & Bengio 2003) on the k fold differences:
   ``t = mean(d_f) / sqrt((1/k + n_test/n_train) * var(d_f))``, ``df = k - 1``, two-sided at 0.05
   (each direction spends 0.025); ``n_test/n_train`` is the rows' mean ``n_val / n_train``. The
   standard error is floored at the metric's resolution (one validation sample; ``MetricInfo.se_floor``).
3. Holm adjustment across a declared **family**: the variants of one planned grid or study (members that
   could not be tested count as p = 1, so the family is the one planned), or, for ad-hoc reads of a
   store, every variant of one baseline on one dataset and metric in the whole store. Filters that
   select what is shown never change a family.
4. 95% CI of the gain (matches the two-sided test), 90% CI for the equivalence rule, folds won, the
   posterior probabilities of the correlated Bayesian t-test, and the rule's MDE (``suite._power``).

Why folds and not all k*r cells. Bouckaert & Frank (2004) correct repeated k-fold CV with all k*r
differences, variance factor ``1/(k*r) + n_test/n_train`` and ``df = k*r - 1``. Their repeats draw a
new partition each time, so two cells share a test set only by chance. Here every seed reuses the
same manifest: the r cells of a fold share both their test set and their training set, and differ
only by init/order/augmentation noise. Their differences are far more correlated than the
Bouckaert-Frank model assumes, so the k*r form would understate the variance and overstate
significance. Averaging over seeds within a fold first removes that within-fold dependence, leaves
k fold differences whose only correlation is the training-set overlap Nadeau & Bengio correct for,
and uses ``df = k - 1`` honestly. Seeds still help: they shrink the seed noise in each ``d_f``.

Labels: see ``suite._stats.classify``. A comparison is refused (inconclusive, ``reason`` set, no p or
CI) when the variant and baseline runs are not on the same manifest and recipe, a cell is missing or
failed, a metric is not finite, or k < 3.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from suite import _pairing, _power, _stats
from suite._pairing import RunSet
from suite.errors import SuiteError
from suite.metric_catalog import DEFAULT_METRIC_BY_TASK, metric_info
from suite.verdict_names import BEYOND_CAPACITY, HOLDS, HOLDS_BEYOND_DELTA, INCONCLUSIVE, NOT_BEYOND_CAPACITY, VERDICTS

__all__ = ["VERDICTS", "Comparison", "Plan", "available_metrics", "compare", "compare_with_references", "default_metric"]

Member = tuple[str, str, str, str]  # (variant spec, dataset, manifest hash, recipe hash)


@dataclass(frozen=True)
class Plan:
    """A planned family: the variants one grid or study set out to test, and its name."""

    name: str  # e.g. "grid 1a2b3c4d" or a study's name
    members: frozenset[Member]


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
    higher_is_better: bool = True  # the metric's direction; gains are oriented so that positive = better
    family: str = ""  # the Holm family this comparison was adjusted in
    family_size: int = 1  # number of comparisons in that family (planned ones that failed included)
    verdict: str = INCONCLUSIVE
    reason: str | None = None  # why no statistics were computed (refused comparison)
    n_folds: int = 0  # k of the split
    n_seeds: int = 0  # repeats per fold
    test_train_ratio: float | None = None  # n_test / n_train in the variance correction
    baseline_mean: float | None = None  # over all paired (fold, seed) runs
    baseline_sd: float | None = None  # sample sd over those runs
    variant_mean: float | None = None
    variant_sd: float | None = None
    fold_gains: list[float] = field(default_factory=list)  # seed-averaged improvement per fold
    gain: float | None = None  # mean of fold_gains, in the metric's unit; positive = better
    se: float | None = None  # corrected standard error of the gain (floored at the resolution)
    se_floor: float = 0.0  # the least se this metric allows here (``MetricInfo.se_floor``)
    se_floored: bool = False  # True when the resolution floor, not the data, set the standard error
    ci95: tuple[float, float] | None = None
    ci90: tuple[float, float] | None = None
    t: float | None = None
    df: int | None = None
    p: float | None = None  # two-sided, H0: gain == 0
    p_adjusted: float | None = None  # Holm across the family
    p_beyond_delta: float | None = None  # one-sided, H0: gain <= delta
    p_beyond_delta_adjusted: float | None = None  # Holm across the family
    prob_above_delta: float | None = None  # posterior P(gain > delta), correlated Bayesian t-test
    prob_within_delta: float | None = None  # posterior P(|gain| < delta)
    prob_below_delta: float | None = None  # posterior P(gain < -delta)
    folds_won: int | None = None
    folds_lost: int | None = None
    mde: float | None = None  # gain at which the whole rule says "holds" with probability 0.8
    params: int | None = None  # exact parameter count of the variant
    params_added: int | None = None
    params_added_pct: float | None = None  # in % of the baseline's parameters
    gmacs: float | None = None  # fvcore GMACs of the variant, batch 1, recipe image size
    gmacs_added: float | None = None
    gmacs_added_pct: float | None = None
    latency_ms: float | None = None  # forward latency of the variant, batch 1 (10th percentile; median before v4)
    latency_added_ms: float | None = None  # only when variant and baseline ran on one device
    latency_added_pct: float | None = None
    latency_spread_ms: float | None = None  # half-width of the 95% interval of latency_added_ms
    latency_reliable: bool | None = None  # False when that interval is wider than the difference itself
    latency_device: str | None = None
    latency_paired: bool = False  # latency added = paired difference to the baseline timed interleaved with it
    control: dict | None = None  # the capacity-matched control (``CapacityMatch.to_dict``), where one was run
    capacity: "Comparison | None" = None  # this variant against that control, by the same rule

    @property
    def beyond_capacity(self) -> bool | None:
        """For a variant that holds and was tested against its capacity-matched control: whether it holds
        against that control too (None: it does not hold, or has no tested control)."""
        if not self.holds or self.capacity is None or not self.capacity.has_stats:
            return None
        return self.capacity.holds

    @property
    def capacity_summary(self) -> str | None:
        """``holds, and beyond capacity`` / ``holds, but a baseline as big does as well``, or None."""
        beyond = self.beyond_capacity
        if beyond is None:
            return None
        return f"{self.verdict}, {BEYOND_CAPACITY if beyond else NOT_BEYOND_CAPACITY}"

    @property
    def unit(self) -> str:
        return metric_info(self.metric).unit

    @property
    def has_stats(self) -> bool:
        return self.reason is None and self.gain is not None

    @property
    def shown_p(self) -> float | None:
        """The Holm-adjusted two-sided p (None for a refused comparison)."""
        return self.p_adjusted if self.has_stats else None

    @property
    def holds(self) -> bool:
        return self.verdict in (HOLDS, HOLDS_BEYOND_DELTA)

    def to_dict(self) -> dict:
        """JSON-ready dict: tuples become lists, NaN and infinities become None."""
        data = {key: _jsonable(value) for key, value in asdict(self).items() if key != "capacity"}
        capacity = self.capacity.to_dict() if self.capacity is not None else None
        return data | {"unit": self.unit, "capacity": capacity, "capacity_summary": self.capacity_summary}


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
    return DEFAULT_METRIC_BY_TASK.get(tasks.pop() if len(tasks) == 1 else "", "accuracy")


def available_metrics(rows: pd.DataFrame) -> list[str]:
    return sorted(c.removeprefix("val_") for c in rows.columns if c.startswith("val_") and rows[c].notna().any())


def delta_for(metric: str, delta: float | None) -> float:
    """``delta`` if given (checked), else the metric's default margin; a metric without one needs ``delta``."""
    if delta is not None:
        if not (isinstance(delta, (int, float)) and math.isfinite(delta) and delta > 0):
            raise SuiteError(f"delta must be a positive number in the metric's unit, got {delta}")
        return float(delta)
    default = metric_info(metric).default_delta
    if default is None:
        raise SuiteError(f"no default delta for metric {metric!r}; pass --delta in the metric's unit")
    return default


def compare(
    runs: pd.DataFrame, metric: str | None = None, delta: float | None = None, plan: Plan | None = None
) -> list[Comparison]:
    """Every variant in ``runs`` against its baseline; one ``Comparison`` per dataset and setting.

    ``metric``: default accuracy for classification datasets, dice for segmentation. ``delta``: default
    the metric's margin. ``plan``: compare only its members, as one family per dataset and metric;
    without one, each (dataset, metric, baseline) of ``runs`` is a family.
    Raises ``SuiteError`` for a metric that ``runs`` does not have.
    """
    if runs.empty:
        return []
    metric = metric.lower() if metric else None
    if delta is not None:
        delta_for(metric or "accuracy", delta)
    by_dataset = [
        (str(name), rows)
        for name, rows in sorted(runs.groupby("dataset"), key=lambda item: item[0])
        if (rows["spec"] != rows["baseline"]).any()
    ]
    if plan is not None:
        planned = {member[1] for member in plan.members}
        by_dataset = [(name, rows) for name, rows in by_dataset if name in planned]
    if metric is None:
        chosen = {name: default_metric(rows) for name, rows in by_dataset}
    else:
        chosen = {name: metric for name, rows in by_dataset if metric in available_metrics(rows)}
        if not chosen and by_dataset:
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
        if name not in chosen:
            continue
        found = _compare_dataset(rows, name, chosen[name], delta_for(chosen[name], delta), plan)
        for family, members in _families(found, plan, name).items():
            _adjust_and_label(members, family, _planned_size(plan, name, members))
        comparisons.extend(found)
    return comparisons


def _families(found: list[Comparison], plan: Plan | None, dataset: str) -> dict[str, list[Comparison]]:
    families: dict[str, list[Comparison]] = defaultdict(list)
    for comp in found:
        if plan is not None:
            families[f"{plan.name} · {dataset} · {comp.metric}"].append(comp)
        else:
            families[f"every {comp.baseline} variant on {dataset} · {comp.metric} in the store"].append(comp)
    return families


def _planned_size(plan: Plan | None, dataset: str, members: list[Comparison]) -> int:
    if plan is None:
        return sum(c.has_stats for c in members)
    return max(len(members), sum(member[1] == dataset for member in plan.members))


def compare_with_references(
    runs: pd.DataFrame, references: dict[tuple[str, str, str], str], metric: str, delta: float | None, family: str
) -> list[Comparison]:
    """Each variant against another spec than its baseline, e.g. its capacity-matched control:
    ``references`` maps (variant, dataset, recipe hash) to the spec it is compared with. The same
    statistics and rule as ``compare``; Holm across all of them on one dataset, as one ``family``."""
    found: list[Comparison] = []
    for dataset, rows in sorted(runs.groupby("dataset"), key=lambda item: item[0]):
        wanted = {key: ref for key, ref in references.items() if key[1] == dataset}
        if not wanted or f"val_{metric}" not in rows:
            continue
        chosen = delta_for(metric, delta)
        members = _compare_dataset(rows, str(dataset), metric, chosen, None, wanted)
        _adjust_and_label(members, f"{family} · {dataset} · {metric}", len(wanted))
        found.extend(members)
    return found


def _compare_dataset(
    rows: pd.DataFrame,
    dataset: str,
    metric: str,
    delta: float,
    plan: Plan | None,
    references: dict[tuple[str, str, str], str] | None = None,
) -> list[Comparison]:
    """One comparison per (variant, manifest, recipe) among the dataset's runs: each variant against its
    baseline, or, given ``references``, only the variants it names, each against the spec it names."""
    run_sets = RunSet.group(rows, metric)
    info = metric_info(metric)
    found = []
    for spec, manifest, recipe in sorted(run_sets):
        var = run_sets[(spec, manifest, recipe)]
        base_name = var.baseline if references is None else references.get((spec, dataset, recipe))
        if base_name is None or spec == base_name:
            continue
        if plan is not None and (spec, dataset, manifest, recipe) not in plan.members:
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
            higher_is_better=info.higher_is_better,
            n_folds=var.k,
            n_seeds=len(var.seeds),
            **_pairing.cost(var, base),
        )
        base_elsewhere = any(key[0] == base_name for key in run_sets)
        comp.reason = _pairing.refusal(comp.variant, base_name, var, base, base_elsewhere, metric)
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
    sign = 1.0 if comp.higher_is_better else -1.0
    fold_gains = sign * (variant - baseline).mean(axis=1)
    ratio = _pairing.test_train_ratio(var, base)
    comp.se_floor = metric_info(comp.metric).se_floor((var.n_val + base.n_val) / 2, float(np.std(fold_gains, ddof=1)))
    test = _stats.corrected_t_test(fold_gains, ratio, comp.se_floor)
    ci95, ci90 = test.interval(_stats.CI_LEVEL), test.interval(_stats.EQUIVALENCE_LEVEL)
    above, within, below = test.posterior(comp.delta)
    comp.test_train_ratio = ratio
    comp.baseline_mean, comp.baseline_sd = float(baseline.mean()), _sd(baseline)
    comp.variant_mean, comp.variant_sd = float(variant.mean()), _sd(variant)
    comp.fold_gains = [float(g) for g in fold_gains]
    comp.gain, comp.se, comp.t, comp.df = float(test.gain), float(test.se), float(test.t), test.df
    comp.se_floored = bool(comp.se_floor > 0 and test.se <= comp.se_floor)
    comp.ci95 = (float(ci95[0]), float(ci95[1]))
    comp.ci90 = (float(ci90[0]), float(ci90[1]))
    comp.p, comp.p_beyond_delta = float(test.p), float(test.p_above(comp.delta))
    comp.prob_above_delta, comp.prob_within_delta, comp.prob_below_delta = float(above), float(within), float(below)
    comp.folds_won, comp.folds_lost = int((fold_gains > 0).sum()), int((fold_gains < 0).sum())


def _adjust_and_label(family: list[Comparison], name: str, size: int) -> None:
    """Holm across the family (planned members without statistics count as p = 1), then the labels."""
    for comp in family:
        comp.family, comp.family_size = name, size
    tested = [c for c in family if c.has_stats]
    if not tested:
        return
    padding = [1.0] * (size - len(tested))
    p = _stats.holm(np.array([c.p for c in tested] + padding))
    beyond = _stats.holm(np.array([c.p_beyond_delta for c in tested] + padding))
    for comp, adjusted, adjusted_beyond in zip(tested, p, beyond):
        comp.p_adjusted, comp.p_beyond_delta_adjusted = float(adjusted), float(adjusted_beyond)
        comp.verdict = str(
            _stats.classify(
                adjusted,
                adjusted_beyond,
                comp.gain,
                comp.ci90,
                comp.folds_won,
                comp.folds_lost,
                comp.n_folds,
                comp.delta,
            )
        )
        sample_sd = float(np.std(comp.fold_gains, ddof=1))
        comp.mde = _power.rule_mde(sample_sd, comp.n_folds, comp.test_train_ratio, comp.delta, size, comp.se_floor)
