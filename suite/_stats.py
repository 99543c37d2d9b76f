"""The statistics behind a verdict: corrected resampled t-test, Holm adjustment, posterior, labels.

Everything here works on plain numpy arrays, vectorized over leading axes, so the same code serves
``suite.verdict.compare`` (one comparison at a time) and the property tests (thousands at once).

The test is Nadeau & Bengio's corrected resampled t-test ("Inference for the Generalization Error",
Machine Learning 52, 2003) applied to per-fold differences that were first averaged over seeds; see
``suite.verdict`` for why the folds, not the (fold, seed) cells, are the unit of the test.

Levels. The test is two-sided at ``ALPHA`` = 0.05: a claim in either direction ("holds" or "worse")
spends 0.025, so under the null the two together stay at or below 5%, and the 95% interval shown next
to a gain excludes 0 exactly when the unadjusted test rejects. Holm's adjustment only makes p larger,
so no "holds" is ever printed beside a 95% interval that contains 0.

Posterior. Corani & Benavoli's correlated Bayesian t-test ("A Bayesian approach for comparing
cross-validated algorithms on multiple data sets", Machine Learning 100, 2015) gives the gain a Student
posterior with ``df = k - 1``, location the mean fold difference and scale the corrected standard error
(its correlation ``rho = n_test / n`` makes ``rho / (1 - rho) = n_test / n_train``); ``posterior``
reads P(gain > delta), P(|gain| < delta) and P(gain < -delta) off it (baycomp's ``CorrelatedTTest``
computes the same, cross-checked in the tests).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from suite.verdict_names import (
    HOLDS,
    HOLDS_BEYOND_DELTA,
    INCONCLUSIVE,
    NO_PRACTICAL_GAIN,
    SMALL_LOSS,
    WORSE,
)

ALPHA = 0.05  # two-sided: "holds" and "worse" each spend ALPHA / 2, after Holm adjustment
SIDE_ALPHA = ALPHA / 2  # one direction; also the level of "holds (>= delta)"
POWER = 0.8  # power at which the minimal detectable effect of the rule is stated
EQUIVALENCE_LEVEL = 0.90  # two-sided CI that must lie inside (-delta, +delta) for "no practical gain"
CI_LEVEL = 1 - ALPHA  # two-sided CI shown next to the gain: matches the decision's level



@dataclass(frozen=True)
class CorrectedTest:
    """Result of the corrected resampled t-test on fold differences (arrays broadcast together)."""

    gain: np.ndarray  # mean of the fold differences
    se: np.ndarray  # corrected standard error of the gain, floored at the metric's resolution
    t: np.ndarray  # gain / se (+-inf where se == 0 and gain != 0, 0 where both are 0)
    df: int  # degrees of freedom: number of folds - 1

    @property
    def p(self) -> np.ndarray:
        """Two-sided p of H0: gain == 0."""
        return np.minimum(1.0, 2 * stats.t.sf(np.abs(self.t), self.df))

    def p_above(self, threshold: float | np.ndarray) -> np.ndarray:
        """One-sided p of H0: gain <= threshold (H1: gain > threshold)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            t = _ratio(self.gain - threshold, self.se)
        return stats.t.sf(t, self.df)

    def interval(self, level: float) -> tuple[np.ndarray, np.ndarray]:
        """Two-sided ``level`` confidence interval of the gain with the corrected SE."""
        half = stats.t.ppf(0.5 + level / 2, self.df) * self.se
        return self.gain - half, self.gain + half

    def posterior(self, delta: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """P(gain > delta), P(|gain| < delta), P(gain < -delta) under the correlated Bayesian t-test."""
        # posterior gain = mean + se * T, so P(gain > d) = P(T < (mean - d)/se) = 1 - p_above(d)
        above = 1.0 - self.p_above(delta)
        below = self.p_above(-delta)
        return above, np.clip(1.0 - above - below, 0.0, 1.0), below


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, with +-inf (or nan for 0 / 0) where den is 0."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    safe = np.where(den > 0, den, 1.0)
    with np.errstate(invalid="ignore"):
        return np.where(den > 0, num / safe, np.sign(num) * np.inf)


def corrected_t_test(
    fold_diffs: np.ndarray, test_train_ratio: float | np.ndarray, se_floor: float | np.ndarray = 0.0
) -> CorrectedTest:
    """Nadeau-Bengio corrected resampled t-test over the last axis (one difference per fold).

    ``t = mean(d) / sqrt((1/n + n_test/n_train) * var(d))`` with ``n`` = number of folds, ``var`` the
    unbiased sample variance and ``df = n - 1``. The ``n_test/n_train`` term inflates the variance for
    the correlation between folds whose training sets overlap (for k-fold, ``1/(k-1)``). ``se_floor``:
    the standard error is never taken below it (the metric's resolution; see ``MetricInfo.resolution``),
    so identical gains on every fold do not give p = 0.
    """
    d = np.asarray(fold_diffs, dtype=float)
    n = d.shape[-1]
    if n < 2:
        raise ValueError(f"the corrected t-test needs at least 2 folds, got {n}")
    gain = d.mean(axis=-1)
    se = np.sqrt((1.0 / n + np.asarray(test_train_ratio, dtype=float)) * d.var(axis=-1, ddof=1))
    se = np.maximum(se, np.asarray(se_floor, dtype=float))
    t = np.nan_to_num(_ratio(gain, se), nan=0.0, posinf=np.inf, neginf=-np.inf)
    return CorrectedTest(gain, se, t, n - 1)


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm-Bonferroni step-down adjusted p-values of one family (last axis), capped at 1.

    Sorted ascending, the i-th smallest (0-based) becomes ``max_{j<=i} (m - j) * p_(j)``; the result
    is never below the raw p and keeps the raw order.
    """
    p = np.asarray(p_values, dtype=float)
    m = p.shape[-1]
    if m == 0:
        return p.copy()
    order = np.argsort(p, axis=-1, kind="stable")
    ranked = np.take_along_axis(p, order, axis=-1) * np.arange(m, 0, -1)
    stepped = np.minimum(np.maximum.accumulate(ranked, axis=-1), 1.0)
    adjusted = np.empty_like(stepped)
    np.put_along_axis(adjusted, order, stepped, axis=-1)
    return adjusted


def classify(
    p_adjusted: np.ndarray,
    p_beyond_delta_adjusted: np.ndarray,
    gain: np.ndarray,
    ci90: tuple[np.ndarray, np.ndarray],
    folds_won: np.ndarray,
    folds_lost: np.ndarray,
    n_folds: int | np.ndarray,
    delta: float,
) -> np.ndarray:
    """The verdict label per comparison (array of str); the first rule that applies wins.

    - holds (>= delta): holds, and the one-sided test of gain > delta passes at ALPHA/2 after Holm
      (the 95% interval's lower end clears delta);
    - holds: two-sided Holm-adjusted p < ALPHA, gain >= delta, won >= k-1 of k folds;
    - worse: the mirror image (gain <= -delta, lost >= k-1 folds);
    - small loss: a significant loss smaller than delta, lost in >= k-1 folds;
    - no practical gain: the 90% corrected CI lies strictly inside (-delta, +delta);
    - inconclusive: anything else.
    """
    gain = np.asarray(gain, dtype=float)
    significant = np.asarray(p_adjusted) < ALPHA
    consistent_win = np.asarray(folds_won) >= np.asarray(n_folds) - 1
    consistent_loss = np.asarray(folds_lost) >= np.asarray(n_folds) - 1
    holds = significant & (gain >= delta) & consistent_win
    beyond = holds & (np.asarray(p_beyond_delta_adjusted) < SIDE_ALPHA)
    worse = significant & (gain <= -delta) & consistent_loss
    small_loss = significant & (gain < 0) & consistent_loss
    equivalent = (np.asarray(ci90[0]) > -delta) & (np.asarray(ci90[1]) < delta)
    return np.select(
        [beyond, holds, worse, small_loss, equivalent],
        [HOLDS_BEYOND_DELTA, HOLDS, WORSE, SMALL_LOSS, NO_PRACTICAL_GAIN],
        INCONCLUSIVE,
    )
