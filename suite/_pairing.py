"""Pairing a variant's runs with its baseline's: which (fold, seed) cells match, why a pair is refused, cost.

Private helpers of ``suite.verdict``. The runs of one spec on one (dataset, manifest, recipe) are read
once into a ``RunSet``; a pair can be tested only when the baseline ran on the same manifest and
recipe, every cell of the variant's grid (all k folds x the same seeds) finished for both, and
k >= ``MIN_FOLDS``. Otherwise ``refusal`` says why, in one line with the fix.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

MIN_FOLDS = 3  # k >= 3 folds: at least 3 paired fold differences for the t-test
Cell = tuple[int, int]  # (fold, seed)
_NUMBERS = ("n_train", "n_val", "params", "gmacs", "latency_ms", "baseline_latency_ms", "latency_spread_ms")


@dataclass
class RunSet:
    """The runs of one spec on one dataset, manifest and recipe, reduced to what the verdict needs."""

    baseline: str  # the spec this one is compared with (itself for a baseline)
    module: str  # "+"-joined module names ("" for a baseline)
    points: str  # per insertion its ","-joined points, "+" between insertions
    k: int
    cells: set[Cell]  # cells with any run, finished or failed
    values: dict[Cell, float]  # mean metric of the finished runs per cell
    errors: list[str] = field(default_factory=list)  # first line of each failed run's error
    non_finite: dict[Cell, float] = field(default_factory=dict)  # finished cells whose metric is +-inf (NaN: missing)
    recipe: dict = field(default_factory=dict)  # the resolved recipe the runs share
    n_train: float = float("nan")  # mean training-set size
    n_val: float = float("nan")  # mean validation-set size
    params: float | None = None  # medians over the finished runs
    gmacs: float | None = None
    latency_ms: float | None = None
    baseline_latency_ms: float | None = None  # the baseline's, timed interleaved with this spec's passes
    latency_added_ms: float | None = None  # median of the per-run paired differences, where recorded
    latency_spread_ms: float | None = None  # half-width of the 95% interval of that difference (schema v4+)
    devices: set[str] = field(default_factory=set)

    @classmethod
    def group(cls, rows: pd.DataFrame, metric: str) -> dict[tuple[str, str, str], RunSet]:
        """One RunSet per (spec, manifest_hash, recipe_hash), read in one pass over plain arrays."""
        n = len(rows)

        def column(name: str, fill: object) -> np.ndarray:
            return rows[name].to_numpy() if name in rows else np.full(n, fill, dtype=object)

        value = (
            pd.to_numeric(rows[f"val_{metric}"], errors="coerce").to_numpy(dtype=float)
            if f"val_{metric}" in rows
            else np.full(n, np.nan)
        )
        numbers = {
            c: pd.to_numeric(rows[c], errors="coerce").to_numpy(dtype=float) if c in rows else np.full(n, np.nan)
            for c in _NUMBERS
        }
        spec, manifest, recipe = column("spec", ""), column("manifest_hash", ""), column("recipe_hash", "")
        status, error, device = column("status", "done"), column("error", None), column("device", None)
        baseline, module, points = column("baseline", ""), column("module", None), column("points", None)
        fold, seed, k = rows["fold"].to_numpy(), rows["seed"].to_numpy(), rows["k"].to_numpy()
        recipes = column("recipe", None)
        members: dict[tuple[str, str, str], list[int]] = defaultdict(list)
        for i in range(n):
            members[(str(spec[i]), str(manifest[i]), str(recipe[i]))].append(i)
        found = {}
        for key, indices in members.items():
            per_cell: dict[Cell, list[float]] = defaultdict(list)
            non_finite: dict[Cell, float] = {}
            done = [i for i in indices if status[i] == "done"]
            for i in done:
                cell = (int(fold[i]), int(seed[i]))
                if np.isfinite(value[i]):
                    per_cell[cell].append(float(value[i]))
                elif np.isinf(value[i]):
                    non_finite[cell] = float(value[i])
            first = indices[0]
            found[key] = cls(
                baseline=str(baseline[first]),
                module=module[first] if isinstance(module[first], str) else "+".join(key[0].split("+")[1:]),
                points=points[first] if isinstance(points[first], str) else "",
                k=int(k[first]),
                cells={(int(fold[i]), int(seed[i])) for i in indices},
                values={cell: statistics.fmean(v) for cell, v in per_cell.items() if cell not in non_finite},
                non_finite=non_finite,
                recipe=recipes[first] if isinstance(recipes[first], dict) else {},
                errors=[str(error[i]).splitlines()[0] for i in indices if status[i] != "done" and error[i]],
                n_train=_nan_mean(numbers["n_train"][indices]),
                n_val=_nan_mean(numbers["n_val"][indices]),
                params=_nan_median(numbers["params"][done]),
                gmacs=_nan_median(numbers["gmacs"][done]),
                latency_ms=_nan_median(numbers["latency_ms"][done]),
                baseline_latency_ms=_nan_median(numbers["baseline_latency_ms"][done]),
                latency_added_ms=_nan_median(numbers["latency_ms"][done] - numbers["baseline_latency_ms"][done]),
                latency_spread_ms=_nan_median(numbers["latency_spread_ms"][done]),
                devices={str(device[i]) for i in indices if device[i]},
            )
        return found

    @property
    def seeds(self) -> list[int]:
        return sorted({seed for _, seed in self.cells})

    def matrix(self) -> np.ndarray:
        """(k, r) metric values, fold by seed, of a complete grid."""
        return np.array([[self.values[(f, s)] for s in self.seeds] for f in range(self.k)], dtype=float)

    def mean_sd(self) -> tuple[float | None, float | None]:
        values = list(self.values.values())
        mean = statistics.fmean(values) if values else None
        return mean, statistics.stdev(values) if len(values) > 1 else None


def _nan_mean(values: np.ndarray) -> float:
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else float("nan")


def _nan_median(values: np.ndarray) -> float | None:
    values = values[~np.isnan(values)]
    return float(np.median(values)) if values.size else None


def _cells_text(cells: list[Cell], limit: int = 4) -> str:
    text = ", ".join(f"fold {f} seed {s}" for f, s in cells[:limit])
    return text + (f" and {len(cells) - limit} more" if len(cells) > limit else "")


def refusal(
    variant: str, baseline: str, var: RunSet, base: RunSet | None, base_elsewhere: bool, metric: str
) -> str | None:
    """Why the pair cannot be tested, or None. ``base``: the baseline on the same manifest and recipe;
    ``base_elsewhere``: whether the baseline has runs on this dataset at all."""
    rerun = f"run `suite run --variant {variant}` again with the same options"
    if base is None:
        where = "ran only on another split or recipe" if base_elsewhere else "has no runs on this dataset"
        return f"unpaired: baseline {baseline} {where}; {rerun} to train it on the same folds"
    infinite = [(name, cell, runs.non_finite[cell]) for name, runs in ((variant, var), (baseline, base))
                for cell in sorted(runs.non_finite)]  # fmt: skip
    if infinite:
        name, (fold, seed), value = infinite[0]
        return (
            f"non-finite {metric}: {name} fold {fold} seed {seed} reports {value}, and a verdict needs finite values; "
            "compare on another --metric"
        )
    failed = [
        (name, cell)
        for name, runs in ((variant, var), (baseline, base))
        for cell in sorted((var.cells & runs.cells) - runs.values.keys())
    ]
    if failed:
        name, (fold, seed) = failed[0]
        errors = var.errors + base.errors
        detail = f" ({errors[0][:120]})" if errors else ""
        example = f"{name} fold {fold} seed {seed}{detail}"
        return f"{len(failed)} run(s) failed or lack the metric, e.g. {example}; fix the cause and {rerun}"
    missing = [(f, s) for f in range(var.k) for s in var.seeds if (f, s) not in var.cells]
    if missing:
        return f"missing cells: {variant} has no run for {_cells_text(missing)}; {rerun} to complete the grid"
    missing = sorted(var.cells - base.cells)
    if missing:
        return f"missing cells: {baseline} has no run for {_cells_text(missing)}; {rerun} to pair them"
    if var.k < MIN_FOLDS:
        return (
            f"too few folds: k={var.k} gives {var.k} paired fold differences, "
            f"a verdict needs k >= {MIN_FOLDS}; run with --folds 5"
        )
    return None


def test_train_ratio(var: RunSet, base: RunSet) -> float:
    """Mean n_val over mean n_train of the paired runs; ``1/(k-1)`` when the sizes were not recorded."""
    n_val, n_train = (var.n_val + base.n_val) / 2, (var.n_train + base.n_train) / 2
    return float(n_val / n_train) if n_train > 0 and n_val > 0 else 1.0 / (var.k - 1)


def _pct(added: float | None, base: float | None) -> float | None:
    return 100.0 * added / base if added is not None and base else None


def _added(value: float | None, base: float | None) -> float | None:
    return value - base if value is not None and base is not None else None


def cost(var: RunSet, base: RunSet | None) -> dict:
    """Params, GMACs and latency of the variant and what it adds over the baseline (absolute and %).

    Latency is compared only when every run of both was measured on one device. It is the paired
    difference to the baseline timed interleaved with the variant where the runs recorded it
    (``latency_paired``), else the difference of the two specs' medians, timed apart. Since schema v4
    it comes with the half-width of its 95% interval; a difference smaller than that is not reliable.
    """
    base = base or RunSet(baseline=var.baseline, module="", points="", k=var.k, cells=set(), values={})
    devices = var.devices | base.devices
    device = next(iter(devices)) if len(devices) == 1 else ("mixed devices" if devices else None)
    params_added = _added(var.params, base.params)
    gmacs_added = _added(var.gmacs, base.gmacs)
    paired = var.latency_added_ms is not None and var.baseline_latency_ms is not None
    reference = var.baseline_latency_ms if paired else base.latency_ms
    latency_added = None
    if len(devices) == 1:
        latency_added = var.latency_added_ms if paired else _added(var.latency_ms, base.latency_ms)
    spread = var.latency_spread_ms if paired and latency_added is not None else None
    return {
        "params": int(var.params) if var.params is not None else None,
        "params_added": int(params_added) if params_added is not None else None,
        "params_added_pct": _pct(params_added, base.params),
        "gmacs": var.gmacs,
        "gmacs_added": gmacs_added,
        "gmacs_added_pct": _pct(gmacs_added, base.gmacs),
        "latency_ms": var.latency_ms,
        "latency_added_ms": latency_added,
        "latency_added_pct": _pct(latency_added, reference),
        "latency_spread_ms": spread,
        "latency_reliable": None if spread is None else bool(spread <= abs(latency_added)),
        "latency_device": device,
        "latency_paired": paired and latency_added is not None,
    }
