"""The statistics behind a verdict: corrected resampled t-test, Holm adjustment, MDE, labels.

Everything here works on plain numpy arrays, vectorized over leading axes, so the same code serves
``suite.verdict.compare`` (one comparison at a time) and the property tests (thousands at once).

The test is Nadeau & Bengio's corrected resampled t-test ("Inference for the Generalization Error",
Machine Learning 52, 2003) applied to per-fold differences that were first averaged over seeds; see
``suite.verdict`` for why the folds, not the (fold, seed) cells, are the unit of the test.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

ALPHA = 0.05  # one-sided level of the "holds" / "worse" tests, after Holm adjustment
POWER = 0.8  # power at which the minimal detectable effect is stated
EQUIVALENCE_LEVEL = 0.90  # two-sided CI that must lie inside (-delta, +delta) for "no practical gain"
CI_LEVEL = 0.95  # two-sided CI reported next to the gain

HOLDS, INCONCLUSIVE, NO_PRACTICAL_GAIN, WORSE = "holds", "inconclusive", "no practical gain", "worse"


@dataclass(frozen=True)
class CorrectedTest:
    """Result of the corrected resampled t-test on fold differences (arrays broadcast together)."""

    gain: np.ndarray  # mean of the fold differences
    se: np.ndarray  # corrected standard error of the gain
    t: np.ndarray  # gain / se (0 where gain == se == 0)
    df: int  # degrees of freedom: number of folds - 1
    p_gain: np.ndarray  # one-sided p for H1: gain > 0
    p_worse: np.ndarray  # one-sided p for H1: gain < 0

    def interval(self, level: float) -> tuple[np.ndarray, np.ndarray]:
        """Two-sided ``level`` confidence interval of the gain with the corrected SE."""
        half = stats.t.ppf(0.5 + level / 2, self.df) * self.se
        return self.gain - half, self.gain + half

    def mde(self, alpha: float = ALPHA, power: float = POWER) -> np.ndarray:
        """Smallest true gain the one-sided level-``alpha`` test detects with probability ``power``."""
        return (stats.t.ppf(1 - alpha, self.df) + stats.t.ppf(power, self.df)) * self.se


def corrected_t_test(fold_diffs: np.ndarray, test_train_ratio: float | np.ndarray) -> CorrectedTest:
    """Nadeau-Bengio corrected resampled t-test over the last axis (one difference per fold).

    ``t = mean(d) / sqrt((1/n + n_test/n_train) * var(d))`` with ``n`` = number of folds, ``var``
    the unbiased sample variance and ``df = n - 1``. The ``n_test/n_train`` term inflates the variance
    for the correlation between folds whose training sets overlap (for k-fold, ``1/(k-1)``).
    """
    d = np.asarray(fold_diffs, dtype=float)
    n = d.shape[-1]
    if n < 2:
        raise ValueError(f"the corrected t-test needs at least 2 folds, got {n}")
    gain = d.mean(axis=-1)
    se = np.sqrt((1.0 / n + np.asarray(test_train_ratio, dtype=float)) * d.var(axis=-1, ddof=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(se > 0, gain / np.where(se > 0, se, 1.0), np.sign(gain) * np.inf)
    t = np.nan_to_num(t, nan=0.0, posinf=np.inf, neginf=-np.inf)
    df = n - 1
    return CorrectedTest(gain, se, t, df, stats.t.sf(t, df), stats.t.cdf(t, df))


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
    p_gain_adjusted: np.ndarray,
    p_worse_adjusted: np.ndarray,
    gain: np.ndarray,
    ci90: tuple[np.ndarray, np.ndarray],
    folds_won: np.ndarray,
    folds_lost: np.ndarray,
    n_folds: int,
    delta: float,
) -> np.ndarray:
    """The verdict label per comparison (array of str), in the order holds, worse, no gain, inconclusive.

    - holds: adjusted one-sided p < ALPHA, gain >= delta, won >= k-1 of k folds;
    - worse: the mirror image (p for gain < 0, gain <= -delta, lost >= k-1 folds);
    - no practical gain: the 90% corrected CI lies strictly inside (-delta, +delta);
    - inconclusive: anything else.
    """
    gain = np.asarray(gain, dtype=float)
    holds = (np.asarray(p_gain_adjusted) < ALPHA) & (gain >= delta) & (np.asarray(folds_won) >= n_folds - 1)
    worse = (np.asarray(p_worse_adjusted) < ALPHA) & (gain <= -delta) & (np.asarray(folds_lost) >= n_folds - 1)
    equivalent = (np.asarray(ci90[0]) > -delta) & (np.asarray(ci90[1]) < delta)
    return np.select([holds, worse, equivalent], [HOLDS, WORSE, NO_PRACTICAL_GAIN], INCONCLUSIVE)
