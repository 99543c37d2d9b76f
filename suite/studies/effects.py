"""The effects of an ablation, with the statistics of a verdict: per-fold contrasts, the corrected
resampled t-test, Holm over the study's effects, and ``_stats.classify``.

Each subset's runs are averaged over the seeds of a fold, oriented so that a positive value is better,
and each effect (``suite.studies.ablation.contrasts``) is its weighted sum per fold: k fold contrasts,
tested as a variant's k fold gains are (``suite.verdict``). The standard error is floored at the
metric's resolution scaled by the contrast's weight (one validation sample moved in each mean it
sums). Holm runs over every effect of the study on one dataset and metric; an interaction "holds" by
the same rule as a variant, and only then does the table say "synergy holds".

``effect_statistics`` works on plain arrays with leading batch axes, so the simulations in the tests
run thousands of ablations at once through the same code the reports use.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from suite import _pairing, _stats
from suite._pairing import RunSet
from suite.metric_catalog import metric_info
from suite.studies.ablation import INTERACTION, Contrast, contrasts
from suite.verdict_names import HOLDS, HOLDS_BEYOND_DELTA, NO_PRACTICAL_GAIN, SMALL_LOSS, WORSE

READINGS = {  # how an interaction's verdict reads
    HOLDS_BEYOND_DELTA: "synergy holds",
    HOLDS: "synergy holds",
    WORSE: "interference holds",
    SMALL_LOSS: "interference holds (small)",
    NO_PRACTICAL_GAIN: "no practical interaction",
}


@dataclass
class Effect:
    """One effect of an ablation on one dataset, metric and setting (split, recipe)."""

    name: str  # e.g. "main effect: se@encoder"
    kind: str  # main effect | interaction | leave-one-out drop
    factors: list[str]
    metric: str
    delta: float
    setting: str = ""  # what sets this table apart (e.g. the train fraction), "" if alone
    verdict: str = "inconclusive"
    reason: str | None = None  # why no statistics (a subset's runs missing or failed)
    n_folds: int = 0
    fold_gains: list[float] = field(default_factory=list)  # the contrast per fold, oriented: positive = better
    gain: float | None = None
    se: float | None = None
    ci95: tuple[float, float] | None = None
    ci90: tuple[float, float] | None = None
    p: float | None = None
    p_adjusted: float | None = None  # Holm over the study's effects on this dataset and metric
    p_beyond_delta: float | None = None
    p_beyond_delta_adjusted: float | None = None
    folds_won: int | None = None
    folds_lost: int | None = None
    family: str = ""
    family_size: int = 0
    mde: float | None = None  # not computed for effects; kept so effects format like comparisons

    @property
    def has_stats(self) -> bool:
        return self.reason is None and self.gain is not None

    @property
    def shown_p(self) -> float | None:
        return self.p_adjusted if self.has_stats else None

    @property
    def reading(self) -> str:
        """The verdict in the effect's own words: synergy for an interaction, else the verdict."""
        if self.reason is not None:
            return "inconclusive (refused)"
        if self.kind == INTERACTION:
            return READINGS.get(self.verdict, "no synergy shown")
        return self.verdict


def effect_statistics(
    subset_values: np.ndarray, found: list[Contrast], ratio: float, resolution: float, discrete: bool, delta: float
) -> dict[str, np.ndarray]:
    """Unadjusted statistics of ``found`` on ``subset_values`` (..., 2^n, k): oriented per-fold means.

    ``resolution``: one validation sample's weight in a fold mean; the standard error is floored at it
    (times the contrast's weight) for a ``discrete`` metric, and for exactly equal fold contrasts, as a
    variant's is (``MetricInfo.se_floor``). Returns arrays over (..., effects): the fold contrasts
    (..., effects, k), gain, se, the 95% and 90% CI bounds, p, p_beyond (H0: effect <= delta), folds won
    and lost."""
    weights = np.array([c.weights for c in found])  # (effects, 2^n)
    folds = np.einsum("em,...mk->...ek", weights, subset_values)
    flat = folds.std(axis=-1, ddof=1) == 0
    floors = np.where(discrete | flat, resolution, 0.0) * np.abs(weights).sum(axis=1) / 2
    test = _stats.corrected_t_test(folds, ratio, floors)
    lo95, hi95 = test.interval(_stats.CI_LEVEL)
    lo90, hi90 = test.interval(_stats.EQUIVALENCE_LEVEL)
    return {
        "folds": folds, "gain": test.gain, "se": test.se, "lo95": lo95, "hi95": hi95, "lo90": lo90, "hi90": hi90,
        "p": test.p, "p_beyond": test.p_above(delta), "won": (folds > 0).sum(-1), "lost": (folds < 0).sum(-1),
    }  # fmt: skip


def classify_effects(stats: dict[str, np.ndarray], delta: float, family_size: int | None = None) -> dict[str, np.ndarray]:
    """Holm over the last axis (the family; padded with p = 1 up to ``family_size``), then the verdicts."""
    p, beyond = stats["p"], stats["p_beyond"]
    size = p.shape[-1] if family_size is None else family_size
    pad = [(0, 0)] * (p.ndim - 1) + [(0, size - p.shape[-1])]
    adjusted = _stats.holm(np.pad(p, pad, constant_values=1.0))[..., : p.shape[-1]]
    adjusted_beyond = _stats.holm(np.pad(beyond, pad, constant_values=1.0))[..., : p.shape[-1]]
    k = stats["folds"].shape[-1]
    verdicts = _stats.classify(
        adjusted, adjusted_beyond, stats["gain"], (stats["lo90"], stats["hi90"]), stats["won"], stats["lost"], k, delta
    )
    return {"p_adjusted": adjusted, "p_beyond_adjusted": adjusted_beyond, "verdict": verdicts}


def _subset_matrix(run_sets: dict, specs: list[str], manifest: str, recipe: str, metric: str) -> tuple:
    """(values (2^n, k), runs used, reason): seed-averaged fold values of every subset, or why not."""
    base = run_sets.get((specs[0], manifest, recipe))
    used = []
    for spec in specs:
        runs = run_sets.get((spec, manifest, recipe))
        if runs is None:
            return None, used, f"unpaired: {spec} has no runs on this split and recipe; run the same ablation again"
        if spec != specs[0]:
            reason = _pairing.refusal(spec, specs[0], runs, base, True, metric)
            if reason:
                return None, used, f"{spec}: {reason}"
        used.append(runs)
    seeds = sorted(set.intersection(*(set(runs.seeds) for runs in used)))  # each subset's grid is complete
    values = np.array([[[r.values[(f, s)] for s in seeds] for f in range(r.k)] for r in used]).mean(axis=2)
    return values, used, None


def ablation_effects(
    rows: pd.DataFrame, specs: list[str], labels: list[str], metric: str, delta: float,
    settings: list[tuple[str, str, str]], family: str = "",
) -> list[Effect]:  # fmt: skip
    """Every effect of the ablation whose subsets (by bit mask) are ``specs``, on one dataset's ``rows``,
    for each (manifest hash, recipe hash, setting label) of ``settings``; Holm over all of them together
    (untestable ones count as p = 1), the family named ``family``."""
    info = metric_info(metric)
    sign = 1.0 if info.higher_is_better else -1.0
    found = contrasts(len(labels))
    run_sets = RunSet.group(rows, metric)
    effects, tested = [], []
    for manifest, recipe, setting in settings:
        values, used, reason = _subset_matrix(run_sets, specs, manifest, recipe, metric)
        table = [
            Effect(c.name(labels), c.kind, [labels[i] for i in c.factors], metric, delta, setting, reason=reason)
            for c in found
        ]
        effects += table
        if values is not None:
            n_val = float(np.mean([r.n_val for r in used]))
            n_train = float(np.mean([r.n_train for r in used]))
            ratio = n_val / n_train if n_val > 0 and n_train > 0 else 1.0 / (used[0].k - 1)
            resolution = info.resolution(n_val) or 0.0
            tested.append((table, effect_statistics(sign * values, found, ratio, resolution, info.discrete, delta)))
    for effect in effects:
        effect.family, effect.family_size = family, len(effects)
    if not tested:
        return effects
    joined = {name: np.concatenate([stats[name] for _, stats in tested], axis=0) for name in tested[0][1]}
    verdicts = classify_effects(joined, delta, len(effects))
    for index, effect in enumerate(effect for table, _ in tested for effect in table):
        effect.n_folds = joined["folds"].shape[-1]
        effect.fold_gains = [float(v) for v in joined["folds"][index]]
        effect.gain, effect.se = float(joined["gain"][index]), float(joined["se"][index])
        effect.ci95 = (float(joined["lo95"][index]), float(joined["hi95"][index]))
        effect.ci90 = (float(joined["lo90"][index]), float(joined["hi90"][index]))
        effect.p, effect.p_beyond_delta = float(joined["p"][index]), float(joined["p_beyond"][index])
        effect.folds_won, effect.folds_lost = int(joined["won"][index]), int(joined["lost"][index])
        effect.p_adjusted = float(verdicts["p_adjusted"][index])
        effect.p_beyond_delta_adjusted = float(verdicts["p_beyond_adjusted"][index])
        effect.verdict = str(verdicts["verdict"][index])
    return effects
