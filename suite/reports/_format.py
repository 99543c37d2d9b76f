"""Number formatting shared by the terminal table and every report format: one place decides decimals,
signs and units, so a gain reads the same in the terminal, the CI summary and the paper table."""

from __future__ import annotations

import numpy as np

from suite.errors import SuiteError
from suite.metric_catalog import metric_info
from suite.spec import compact
from suite.verdict import Comparison


def decimals(metric: str) -> int | None:
    """2 for percent and pixel metrics (accuracy 91.23, HD95 3.61), 4 for 0-1 fractions (Dice 0.8123),
    None (4 significant digits) for millimetres."""
    return metric_info(metric).decimals


def value(x: float | None, metric: str, signed: bool = False) -> str:
    if x is None:
        return "–"
    places = decimals(metric)
    if places is not None:
        return f"{x:{'+' if signed else ''}.{places}f}"
    digits = np.format_float_positional(abs(x), precision=4, fractional=False, trim="-")
    return ("-" if x < 0 else "+" if signed else "") + digits


def mean_sd(mean: float | None, sd: float | None, metric: str, pm: str = "±") -> str:
    if mean is None:
        return "–"
    return value(mean, metric) + (f" {pm} {value(sd, metric)}" if sd is not None else "")


def ci(interval: tuple[float, float] | None, metric: str) -> str:
    if interval is None:
        return "–"
    return f"[{value(interval[0], metric, True)}, {value(interval[1], metric, True)}]"


def gain_ci(comp: Comparison) -> str:
    if comp.gain is None:
        return "–"
    return f"{value(comp.gain, comp.metric, True)} {ci(comp.ci95, comp.metric)}"


def p_value(p: float | None) -> str:
    if p is None:
        return "–"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def probability(p: float | None) -> str:
    """A posterior probability as a percentage: 97%, >99.9%, <0.1%."""
    if p is None:
        return "–"
    if p > 0.999:
        return ">99.9%"
    if p < 0.001:
        return "<0.1%"
    return f"{100 * p:.0f}%" if 0.01 <= p <= 0.99 else f"{100 * p:.1f}%"


def posterior(comp: Comparison) -> str:
    """P(gain > delta) / P(|gain| < delta) / P(gain < -delta), e.g. 91% / 9% / <0.1%."""
    if comp.prob_above_delta is None:
        return "–"
    return " / ".join(probability(p) for p in (comp.prob_above_delta, comp.prob_within_delta, comp.prob_below_delta))


def folds_won(comp: Comparison) -> str:
    return "–" if comp.folds_won is None else f"{comp.folds_won}/{comp.n_folds}"


def runs(comp: Comparison) -> str:
    """Folds x seeds of the variant's grid, e.g. 5×2."""
    return f"{comp.n_folds}×{comp.n_seeds}"


def _pct(pct: float | None) -> str:
    return f" ({pct:+.1f}%)" if pct is not None else ""


def count(n: int | None) -> str:
    """Signed parameter count with k/M suffix: +12.3k, +1.20M."""
    if n is None:
        return "–"
    size = abs(n)
    text = f"{size / 1e6:.2f}M" if size >= 1e6 else f"{size / 1e3:.1f}k" if size >= 1e3 else str(size)
    return ("-" if n < 0 else "+") + text


def params_added(comp: Comparison) -> str:
    return count(comp.params_added) + _pct(comp.params_added_pct) if comp.params_added is not None else "–"


def gmacs_added(comp: Comparison) -> str:
    if comp.gmacs_added is None:
        return "–"
    sign = "-" if comp.gmacs_added < 0 else "+"
    digits = np.format_float_positional(abs(comp.gmacs_added), precision=3, fractional=False, trim="-")
    return f"{sign}{digits}" + _pct(comp.gmacs_added_pct)  # 3 significant digits, never 1e-05 notation


def latency_added(comp: Comparison) -> str:
    """``+0.21 ±0.05 ms (+3.1%)``; ``unreliable (±0.42 ms)`` when the spread exceeds the difference;
    without a recorded spread (runs before store schema v4) the plain difference."""
    if comp.latency_added_ms is None:
        return "–"
    if comp.latency_reliable is False:
        return f"unreliable (±{comp.latency_spread_ms:.2f} ms)"
    spread = f" ±{comp.latency_spread_ms:.2f}" if comp.latency_spread_ms is not None else ""
    return f"{comp.latency_added_ms:+.2f}{spread} ms" + _pct(comp.latency_added_pct)


def cost_units(comparisons: list[Comparison]) -> str:
    """The units of the cost columns, naming the latency device(s) and how latency was timed."""
    devices = sorted({c.latency_device for c in comparisons if c.latency_device})
    where = ", ".join(devices) if devices else "the run's device"
    timed = [c for c in comparisons if c.latency_added_ms is not None]
    with_spread = [c for c in timed if c.latency_spread_ms is not None]
    if timed and len(with_spread) == len(timed):
        how = (
            f"10th percentile of forward passes timed interleaved with the baseline, ms, batch 1, on {where}, "
            "± half-width of its bootstrap 95% interval; unreliable when that exceeds the difference"
        )
    elif any(c.latency_paired for c in timed):
        how = f"forward ms, batch 1, on {where}, timed interleaved with the baseline (older runs: medians, no spread)"
    else:
        how = f"median forward ms, batch 1, on {where}" + (", timed apart from the baseline" if timed else "")
    return (
        "params added: exact count (% of the baseline); GMACs added: fvcore multiply-accumulates, batch 1, "
        f"recipe image size (% of the baseline); latency added: {how} (% of the baseline)"
    )


def short(hash_text: str) -> str:
    return hash_text[:8]


def spec_label(variant: str) -> str:
    """A variant's compact spec (``unet+se@decoder``); a stored spec this version cannot resolve, as stored."""
    try:
        return compact(variant)
    except SuiteError:
        return variant
