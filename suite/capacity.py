"""Capacity-matched controls: the baseline made as big as a variant, so "holds" can be told from "is bigger".

For a variant (``unet+se``) this finds a widened baseline (``unet(widths=(8,16,32,64,131))``) whose
parameter count (or GMACs, batch 1 at the recipe's image size) is within ``TOLERANCE`` (±2%) of the
variant's, by climbing the baseline's width ladder (``suite.baselines._widths``):

1. coarse: the widest uniform scaling of the baseline (every coordinate scaled with the first, e.g.
   U-Net ``width``) whose size is at most the variant's;
2. fine: each coordinate the ladder lets move, largest effect first, raised as far as the size stays at
   most the variant's (binary search between this step and the next uniform one), so a stage at a time
   closes the gap a whole ``width`` step would overshoot;
3. the nearer of that and the next finest step above, when either is within ±2%; otherwise the one above
   ("closest larger": the variant adds less than the ladder's finest step; reported as such).

When the plain baseline is already within ±2% (a module that adds almost nothing), the control is the
baseline itself and the capacity verdict is the ordinary one. Sizes are counted on the meta device
(parameters) or on the CPU with fvcore (GMACs), so nothing is trained or allocated to find a control.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

import torch

from suite.baselines import BASELINES, baseline_defaults
from suite.baselines._widths import Coordinates, WidthLadder
from suite.build import build_variant, count_params
from suite.errors import SuiteError
from suite.spec import Spec, canonical, compact

MEASURES = ("params", "gmacs")
TOLERANCE = 0.02


@dataclass(frozen=True)
class CapacityMatch:
    """A variant, its capacity-matched control and their sizes in ``measure``."""

    variant: str  # canonical spec
    control: str  # canonical spec of the widened baseline (the plain baseline when it is within tolerance)
    baseline: str  # the plain baseline both are compared with
    measure: str  # "params" (count) or "gmacs" (1e9 multiply-adds, batch 1, recipe image size)
    variant_size: float
    control_size: float
    baseline_size: float
    closest_larger: bool  # no control within tolerance: the next step above the variant's size is used

    @property
    def gap(self) -> float:
        """The control's size relative to the variant's: +0.004 is 0.4% larger."""
        return self.control_size / self.variant_size - 1

    @property
    def is_baseline(self) -> bool:
        return self.control == self.baseline

    def describe(self) -> str:
        """``unet(width=9): 545,122 params, +0.4% of unet+se's 543,000 (match within ±2%)``"""
        unit = "params" if self.measure == "params" else "GMACs"
        size = (lambda v: f"{v:,.0f}") if self.measure == "params" else (lambda v: f"{v:.4g}")
        rule = "closest larger: the variant adds less than the finest width step" if self.closest_larger else (
            f"match within ±{TOLERANCE:.0%}"
        )
        return (
            f"{compact(self.control)}: {size(self.control_size)} {unit}, {self.gap:+.1%} of {compact(self.variant)}'s "
            f"{size(self.variant_size)} ({rule})"
        )

    def to_dict(self) -> dict:
        return {
            "variant": self.variant, "control": self.control, "baseline": self.baseline, "measure": self.measure,
            "variant_size": self.variant_size, "control_size": self.control_size,
            "baseline_size": self.baseline_size, "closest_larger": self.closest_larger,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict) -> "CapacityMatch":
        return cls(**{key: data[key] for key in cls.__dataclass_fields__})


def match_capacity(
    variant: str | Spec,
    task: str,
    num_classes: int,
    in_channels: int,
    image_size: int,
    model_kwargs: dict | None = None,
    measure: str = "params",
    tolerance: float = TOLERANCE,
) -> CapacityMatch:
    """The capacity-matched control of ``variant`` built for this data under a recipe's ``model_kwargs``."""
    if measure not in MEASURES:
        raise SuiteError(f"unknown capacity measure {measure!r}; choose one of: {', '.join(MEASURES)}")
    spec = canonical(variant)
    entry = BASELINES.entry(spec.baseline)
    ladder: WidthLadder | None = entry.meta.get("widths")
    if ladder is None:
        raise SuiteError(f"{spec.baseline} has no width ladder, so no capacity control can be built for it")
    kwargs = {**baseline_defaults(spec.baseline), **(model_kwargs or {})}
    data = dict(task=task, num_classes=num_classes, in_channels=in_channels, image_size=image_size)
    size = _sizer(measure, data, model_kwargs or {})
    target = size(str(spec))
    base_coords = ladder.read({**kwargs, **dict(spec.baseline_kwargs)})
    sizes: dict[Coordinates, float] = {}

    def size_of(coords: Coordinates) -> float:
        if coords not in sizes:
            sizes[coords] = size(_control_spec(spec.baseline, ladder, coords, kwargs))
        return sizes[coords]

    below = _largest_at_most(ladder, base_coords, target, size_of)
    above = _step_up(ladder, below) if below else ladder.scaled(base_coords, ladder.multiples[0])
    within = [c for c in (below, above) if c is not None and abs(size_of(c) / target - 1) <= tolerance]
    chosen = min(within, key=lambda c: abs(size_of(c) - target)) if within else above
    control = _control_spec(spec.baseline, ladder, chosen, kwargs)
    return CapacityMatch(
        variant=str(spec),
        control=control,
        baseline=spec.baseline,
        measure=measure,
        variant_size=target,
        control_size=size_of(chosen),
        baseline_size=size_of(ladder.read(kwargs)),
        closest_larger=not within,
    )


def _largest_at_most(
    ladder: WidthLadder, base: Coordinates, target: float, size_of: Callable[[Coordinates], float]
) -> Coordinates | None:
    """The widest coordinates whose size is at most ``target`` (coarse, then fine); None if even the
    narrowest uniform scaling is larger."""
    step = ladder.multiples[0]
    if size_of(ladder.scaled(base, step)) > target:
        return None
    low, high = step, max(step, base[0] - base[0] % step)
    while size_of(ladder.scaled(base, high)) <= target:
        low, high = high, high * 2
    width = _bisect(low, high, step, lambda w: size_of(ladder.scaled(base, w)) <= target)
    coords = ladder.scaled(base, width)
    upper = ladder.scaled(base, width + step)
    for index in ladder.fine_order:
        multiple = ladder.multiples[index]

        def fits(value: int, index: int = index) -> bool:
            return size_of(coords[:index] + (value,) + coords[index + 1 :]) <= target

        if upper[index] > coords[index]:
            value = _bisect(coords[index], upper[index], multiple, fits)
            coords = coords[:index] + (value,) + coords[index + 1 :]
    return coords


def _bisect(low: int, high: int, step: int, fits: Callable[[int], bool]) -> int:
    """The largest multiple of ``step`` in [low, high] that ``fits``, given that ``low`` fits."""
    while high - low > step:
        middle = low + (high - low) // (2 * step) * step
        low, high = (middle, high) if fits(middle) else (low, middle)
    return high if fits(high) else low


def _step_up(ladder: WidthLadder, coords: Coordinates) -> Coordinates:
    """The finest step above ``coords`` (the last coordinate the fine search moves, one multiple up)."""
    index = ladder.fine_order[-1] if ladder.fine_order else 0
    return coords[:index] + (coords[index] + ladder.multiples[index],) + coords[index + 1 :]


def _control_spec(baseline: str, ladder: WidthLadder, coords: Coordinates, kwargs: dict) -> str:
    """The canonical spec of the baseline built at ``coords`` (the plain baseline when nothing changes)."""
    if coords == ladder.read(kwargs):
        return baseline
    arguments = tuple(sorted(ladder.write(coords).items()))
    return str(canonical(Spec(baseline, (), arguments)))


def _sizer(measure: str, data: dict, model_kwargs: dict) -> Callable[[str], float]:
    """``spec -> size`` for this data and recipe; sizes are cached, since every variant of a baseline
    climbs the same ladder."""
    kwargs = {k: v for k, v in model_kwargs.items() if k != "pretrained"}  # weights change no size
    frozen = (measure, tuple(sorted(data.items())), tuple(sorted(kwargs.items())))
    return lambda spec: _size(spec, *frozen)


@functools.lru_cache(maxsize=4096)
def _size(spec: str, measure: str, data: tuple, model_kwargs: tuple) -> float:
    arguments = {**dict(data), **dict(model_kwargs)}
    if measure == "params":
        with torch.device("meta"):
            return float(count_params(build_variant(spec, **arguments).model))
    from suite.cost import count_gmacs

    model = build_variant(spec, **arguments).model.eval()
    size = dict(data)["image_size"]
    return count_gmacs(model, (1, dict(data)["in_channels"], size, size)).gmacs
