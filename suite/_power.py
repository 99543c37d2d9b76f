"""Power of the verdict rule: the gain at which "holds" comes out with probability ``POWER`` (the rule's MDE).

The t-test's own minimal detectable effect, ``(t_{1-alpha} + t_{power}) * se``, leaves out the rule's
other conditions (a point gain of at least delta, wins in k-1 of k folds, Holm across the family), so at
that gain "holds" comes out far less often than 80%. Here the whole rule (``_stats.classify``) is
simulated instead, and the gain found by bisection.

Model: the fold differences the corrected test assumes, ``d_f = gain + sigma (sqrt(rho) z_0 +
sqrt(1 - rho) z_f)`` with ``rho = ratio / (1 + ratio)`` (``ratio`` = n_test / n_train), whose sample sd
estimates ``sigma sqrt(1 - rho)``. A family of m comparisons is covered by Bonferroni (m * p), which is
what Holm gives the most significant of m: the MDE is stated for the worst place in the family.
Common random numbers make P(holds) monotone in the gain, so bisection is exact up to Monte-Carlo error
(``DRAWS`` draws: +-0.004 in P at 0.8).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from suite import _stats
from suite.verdict_names import HOLDS, HOLDS_BEYOND_DELTA

DRAWS = 10_000
_HOLDS = (HOLDS, HOLDS_BEYOND_DELTA)


@lru_cache(maxsize=32)
def _normals(k: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(20240531 + k)
    return rng.standard_normal((DRAWS, 1)), rng.standard_normal((DRAWS, k))


def holds_probability(
    gain: float, sigma: float, k: int, ratio: float, delta: float, family_size: int = 1, se_floor: float = 0.0
) -> float:
    """P("holds") for a true ``gain`` and fold-difference sd ``sigma`` (before the correlation split)."""
    rho = ratio / (1.0 + ratio)
    shared, own = _normals(k)
    d = gain + sigma * (np.sqrt(rho) * shared + np.sqrt(1.0 - rho) * own)
    test = _stats.corrected_t_test(d, ratio, se_floor)
    p_adjusted = np.minimum(1.0, family_size * test.p)
    beyond = np.minimum(1.0, family_size * test.p_above(delta))
    labels = _stats.classify(
        p_adjusted, beyond, test.gain, test.interval(_stats.EQUIVALENCE_LEVEL), (d > 0).sum(-1), (d < 0).sum(-1), k, delta
    )
    return float(np.isin(labels, _HOLDS).mean())


@lru_cache(maxsize=4096)
def _scaled_mde(k: int, ratio: float, delta: float, family_size: int, se_floor: float, sigma: float) -> float:
    def power(gain: float) -> float:
        return holds_probability(gain, sigma, k, ratio, delta, family_size, se_floor)

    high = max(delta, se_floor, sigma, 1e-12)
    for _ in range(80):
        if power(high) >= _stats.POWER:
            break
        high *= 2
    low = 0.0
    for _ in range(50):
        middle = (low + high) / 2
        if power(middle) >= _stats.POWER:
            high = middle
        else:
            low = middle
        if high - low <= 1e-3 * high:
            break
    return high


def rule_mde(
    sample_sd: float, k: int, ratio: float, delta: float, family_size: int = 1, se_floor: float = 0.0
) -> float:
    """The smallest true gain that the whole rule calls "holds" with probability ``POWER``.

    ``sample_sd``: the observed sd of the k fold differences; ``se_floor``: the resolution floor of the
    standard error (as in ``corrected_t_test``). Scale-free: computed for sigma = 1 and scaled back.
    """
    rho = ratio / (1.0 + ratio)
    sigma = float(sample_sd) / np.sqrt(1.0 - rho)
    if sigma <= 0:
        return _scaled_mde(k, round(ratio, 9), float(delta), family_size, float(se_floor), 0.0)
    scaled = _scaled_mde(k, round(ratio, 9), round(delta / sigma, 6), family_size, round(se_floor / sigma, 6), 1.0)
    return sigma * scaled
