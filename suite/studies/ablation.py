"""Ablations: which insertion of a multi-module variant carries the gain, and is their "synergy" real?

``suite ablate unet+se@encoder+cbam@decoder`` trains every subset of the spec's insertions (the
factors) on the same cells: 2^n specs, the empty subset being the plain baseline. The effects are
linear contrasts over the 2^n subset means, computed per fold (``suite.studies.effects``):

- **main effect** of factor i: the mean over the subsets with i minus the mean over those without it,
  i.e. what adding i changes, averaged over every setting of the other factors;
- **interaction** of factors i and j: ``(ij - i) - (j - none)``, averaged over the other factors;
  positive means the two together do more than the sum of their parts (synergy);
- **leave-one-out drop** of factor i: the full spec minus the full spec without i.

A factor is one insertion of the spec as written. A composite insertion (``(se|sa):wsum``, ``(se>simam)``)
is one factor: ``Factor`` holds the insertions it stands for, so taking a composite apart later means
making one factor per part (``suite.spec.Insertion.parts``), nothing else. Baseline arguments
(``unet(width=18)+se+cbam``) stay on every subset, the empty one included.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import combinations

import numpy as np

from suite.errors import SuiteError
from suite.spec import Insertion, Spec, canonical, compact, parse

MIN_FACTORS, MAX_FACTORS = 2, 4
MAIN, INTERACTION, LEAVE_ONE_OUT = "main effect", "interaction", "leave-one-out drop"
EFFECT_KINDS = (MAIN, INTERACTION, LEAVE_ONE_OUT)


@dataclass(frozen=True)
class Factor:
    """One thing the ablation switches on and off: the insertions it stands for, and its name."""

    label: str  # e.g. "se@encoder"
    insertions: tuple[Insertion, ...]


@dataclass(frozen=True)
class Contrast:
    """One effect as weights over the subsets (index = bit mask of the factors switched on)."""

    kind: str  # MAIN | INTERACTION | LEAVE_ONE_OUT
    factors: tuple[int, ...]  # the factors it is about
    weights: tuple[float, ...]  # one per subset mask 0 .. 2^n - 1

    def name(self, labels: list[str]) -> str:
        named = " x ".join(labels[i] for i in self.factors)
        return f"{self.kind}: {named}" if self.kind != LEAVE_ONE_OUT else f"{self.kind}: full - {named}"


def _label(baseline: str, insertion: Insertion) -> str:
    return compact(f"{baseline}+{insertion}").split("+", 1)[1]


def factors_of(spec_text: str) -> tuple[str, list[Factor]]:
    """(baseline, factors) of an ablation: one factor per insertion, 2 to 4 of them; the baseline keeps
    the spec's baseline arguments (``unet(width=18)+se+cbam`` ablates on ``unet(width=18)``)."""
    spec = canonical(spec_text)
    count = len(spec.insertions)
    if not MIN_FACTORS <= count <= MAX_FACTORS:
        if count < MIN_FACTORS:
            raise SuiteError(
                f"suite ablate needs a spec with {MIN_FACTORS} to {MAX_FACTORS} insertions to take apart; "
                f"{spec_text!r} has {count}: e.g. {spec.baseline}+se@encoder+cbam@decoder (one module: suite sweep)"
            )
        raise SuiteError(
            f"suite ablate takes at most {MAX_FACTORS} insertions ({2**MAX_FACTORS} specs per cell); {spec_text!r} "
            f"has {count}, which would train {2**count} specs per cell: ablate a part of it"
        )
    base = str(Spec(spec.baseline, (), spec.baseline_kwargs))  # with its arguments: unet(width=18)
    return base, [Factor(_label(spec.baseline, ins), (ins,)) for ins in spec.insertions]


def subset_specs(baseline: str, factors: list[Factor]) -> list[str]:
    """The canonical spec of every subset, index = bit mask of the factors on (0: the baseline)."""
    specs = []
    for mask in range(2 ** len(factors)):
        chosen = [ins for i, factor in enumerate(factors) if mask >> i & 1 for ins in factor.insertions]
        specs.append(str(canonical(replace(parse(baseline), insertions=tuple(chosen)))))
    if len(set(specs)) != len(specs):
        raise SuiteError(f"two subsets of the ablation of {baseline}+... are the same network; name each insertion once")
    return specs


def contrasts(n: int) -> list[Contrast]:
    """Main effects, pairwise interactions and leave-one-out drops of ``n`` factors, in that order."""
    masks = np.arange(2**n)
    on = [(masks >> i) & 1 for i in range(n)]
    found = []
    for i in range(n):
        weights = np.where(on[i], 1.0, -1.0) / 2 ** (n - 1)
        found.append(Contrast(MAIN, (i,), tuple(weights)))
    for i, j in combinations(range(n), 2):
        weights = np.where(on[i] == on[j], 1.0, -1.0) / 2 ** (n - 2)
        found.append(Contrast(INTERACTION, (i, j), tuple(weights)))
    full = 2**n - 1
    for i in range(n):
        weights = np.zeros(2**n)
        weights[full], weights[full & ~(1 << i)] = 1.0, -1.0
        found.append(Contrast(LEAVE_ONE_OUT, (i,), tuple(weights)))
    return found
