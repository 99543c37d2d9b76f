"""A/A and placebo calibration on real runs: how often does noise pass as a gain on this data and recipe?

For each of N split seeds (each a new fold manifest):

- the **A/A arm**: the baseline trained twice with different init/order/augmentation seeds (repeats 0
  and 1 of the grid); the second is compared with the first as if it were a variant;
- the **placebo arm**: ``B+identity`` (a module that adds nothing and changes nothing, at its default
  points) compared with the baseline.

Each comparison goes through the verdict's own code in a family of its own, as a user testing one
variant would see it. The rates of "holds" and of "holds or worse" over the splits, with Clopper-Pearson
95% intervals, are the calibration of (dataset, baseline, recipe, k, metric); the store keeps it and
every report shows it next to the verdicts it applies to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd
from scipy import stats

from suite.records import stable_hash
from suite.verdict import Plan, compare, default_metric
from suite.verdict_names import HOLDS, HOLDS_BEYOND_DELTA, SMALL_LOSS, WORSE

AA, PLACEBO = "A/A", "placebo"
PLACEBO_MODULE = "identity"
_AA_SUFFIX = "+aa-reseeded"  # the re-seeded baseline's label inside the calibration (never stored)


@dataclass(frozen=True)
class Rate:
    count: int
    n: int
    low: float  # Clopper-Pearson 95% interval of the rate
    high: float

    @classmethod
    def of(cls, count: int, n: int) -> "Rate":
        if n == 0:
            return cls(0, 0, 0.0, 1.0)
        interval = stats.binomtest(count, n).proportion_ci(confidence_level=0.95, method="exact")
        return cls(count, n, float(interval.low), float(interval.high))

    def __str__(self) -> str:
        return f"{self.count}/{self.n} ({100 * self.low:.1f}-{100 * self.high:.1f}%)"


@dataclass(frozen=True)
class Arm:
    """One arm over the split seeds: the verdict and gain of each split's comparison."""

    name: str
    verdicts: tuple[str, ...]
    gains: tuple[float | None, ...]

    @property
    def holds(self) -> Rate:
        return Rate.of(sum(v in (HOLDS, HOLDS_BEYOND_DELTA) for v in self.verdicts), len(self.verdicts))

    @property
    def claims(self) -> Rate:
        """holds, worse or small loss: any direction claimed."""
        claimed = (HOLDS, HOLDS_BEYOND_DELTA, WORSE, SMALL_LOSS)
        return Rate.of(sum(v in claimed for v in self.verdicts), len(self.verdicts))


@dataclass(frozen=True)
class Calibration:
    dataset: str
    baseline: str
    recipe_hash: str
    k: int
    metric: str
    split_seeds: tuple[int, ...]
    arms: dict[str, Arm]
    created_at: str = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0).isoformat())

    @property
    def id(self) -> str:
        return stable_hash([self.dataset, self.baseline, self.recipe_hash, self.k, self.metric, list(self.split_seeds)])

    def applies_to(self, dataset: str, baseline: str, recipe_hash: str, k: int, metric: str) -> bool:
        return (self.dataset, self.baseline, self.recipe_hash, self.k, self.metric) == (
            dataset, baseline, recipe_hash, k, metric
        )  # fmt: skip

    def summary(self) -> str:
        """One line for the reports: the false-claim rates on this data."""
        parts = [f"{arm.name}: false 'holds' {arm.holds}, any claim {arm.claims}" for arm in self.arms.values()]
        return (
            f"Calibration on {self.dataset} ({self.baseline}, k={self.k}, {len(self.split_seeds)} split seeds): "
            + "; ".join(parts)
        )


def _one_family(runs: pd.DataFrame, variant: str, dataset: str, manifest: str, recipe: str, metric: str, name: str):
    (comp,) = compare(runs, metric=metric, plan=Plan(name, frozenset({(variant, dataset, manifest, recipe)})))
    return comp.verdict, comp.gain


def _aa_frame(runs: pd.DataFrame, baseline: str) -> tuple[pd.DataFrame, str]:
    """Repeat 0 of the baseline as the baseline, repeat 1 relabelled as a variant in the same cells."""
    first = runs[(runs["spec"] == baseline) & (runs["seed"] == 0)]
    second = runs[(runs["spec"] == baseline) & (runs["seed"] == 1)].copy()
    label = baseline + _AA_SUFFIX
    second["spec"], second["seed"], second["module"], second["points"] = label, 0, "a/a", ""
    second["key"] = second["key"] + _AA_SUFFIX
    return pd.concat([first, second], ignore_index=True), label


def evaluate(
    runs: pd.DataFrame,
    dataset: str,
    baseline: str,
    recipe_hash: str,
    manifests: dict[int, str],
    placebo: bool,
    metric: str | None = None,
) -> Calibration:
    """The calibration from the stored runs of each split seed's manifest (``manifests``: seed -> hash)."""
    runs = runs[(runs["dataset"] == dataset) & (runs["recipe_hash"] == recipe_hash)]
    metric = metric or default_metric(runs)
    verdicts: dict[str, list[tuple[str, float | None]]] = {AA: []} | ({PLACEBO: []} if placebo else {})
    k = int(runs["k"].iloc[0]) if not runs.empty else 0
    for seed, manifest in sorted(manifests.items()):
        split = runs[runs["manifest_hash"] == manifest]
        frame, label = _aa_frame(split, baseline)
        verdicts[AA].append(_one_family(frame, label, dataset, manifest, recipe_hash, metric, f"A/A split {seed}"))
        if placebo:
            variant = f"{baseline}+{PLACEBO_MODULE}"
            placebo_runs = split[split["spec"].str.startswith(variant) | (split["spec"] == baseline)]
            placebo_runs = placebo_runs[placebo_runs["seed"] == 0]
            (spec,) = set(placebo_runs["spec"]) - {baseline}
            verdicts[PLACEBO].append(_one_family(placebo_runs, spec, dataset, manifest, recipe_hash, metric, f"placebo split {seed}"))
    arms = {name: Arm(name, tuple(v for v, _ in found), tuple(g for _, g in found)) for name, found in verdicts.items()}
    return Calibration(dataset, baseline, recipe_hash, k, metric, tuple(sorted(manifests)), arms)
