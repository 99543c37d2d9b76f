"""What the contract checks are run on: the subject (a module or composite), its kind's reference points,
the map sizes, the inputs, and the output shape the kind's contract promises.

Reference points are real points of the baselines' tiny ``smoke`` builds (a width-8 U-Net at 32 px:
``unet dec2`` has 16 channels), so a failure names a point a user could insert at; each kind also gets
the cases of its contract that those points do not exercise (``CONTRACT_ONLY``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import nn

from suite.baselines import BASELINES
from suite.composite import build_unit, min_positions
from suite.kinds import KINDS, point_args
from suite.spec import Unit, canonical_unit, unit_kind

# (baseline, point) per kind, from the baselines' smoke builds.
REFERENCE_POINTS = {
    "attention": [("unet", "dec2")],
    "fusion": [("unet", "skip2")],
    "conv": [("unet", "enc2")],
    "up": [("unet", "up2"), ("resunet", "up2")],
    "down": [("unet", "down2")],
}
# Point arguments of the kind's contract that the reference points do not give: a width that is no power
# of two; grey and RGB first blocks, strided widening and narrowing blocks; resampling that keeps, widens
# or narrows the channels.
CONTRACT_ONLY = {
    "attention": [(24,)],
    "fusion": [(32,)],
    "conv": [(1, 16, 1), (3, 16, 2), (16, 32, 2), (32, 16, 1)],
    "up": [(16, 16, 2), (16, 32, 2)],
    "down": [(16, 32, 2), (32, 16, 2)],
}
# Maps (H, W) a module receives: odd, non-square, the 2x2 of a network's tail, a thin row, one position.
SIZES = [(7, 7), (13, 17), (2, 2), (1, 3), (1, 1)]
BATCH_ONE_SIZE = (13, 17)
COST_SIZE = (16, 16)  # the map of the params / GMACs figure, batch 1
# Point arguments of the params / GMACs figure: a width-64 U-Net's first level (the published width), so
# the figure compares with papers' and fvcore's count of products meets FlopCounterMode's on real widths.
COST_ARGS = {"attention": (64,), "fusion": (64,), "conv": (64, 64, 1), "up": (64, 32, 2), "down": (64, 64, 2)}
GRADIENT_SIZE = (6, 6)


@dataclass(frozen=True)
class Case:
    """Where a module is built for a standalone check: a labelled set of point arguments."""

    label: str  # "unet dec2 (channels=16)"
    args: tuple[int, ...]


@dataclass(frozen=True)
class Subject:
    """The module or composite under check, canonical."""

    unit: Unit

    @classmethod
    def of(cls, text: str | Unit) -> "Subject":
        return cls(canonical_unit(text))

    @property
    def name(self) -> str:
        return str(self.unit)

    @property
    def kind(self) -> str:
        return unit_kind(self.unit)

    @property
    def min_positions(self) -> int:
        return min_positions(self.unit)

    def build(self, *args: int) -> nn.Module:
        """The module at point arguments ``args`` (the kind's, in order)."""
        from suite.modules import build_module
        from suite.spec import Module

        if isinstance(self.unit, Module):
            return build_module(self.unit.name, *args, **dict(self.unit.kwargs))
        return build_unit(self.unit, *args)

    def fits(self, size: tuple[int, int]) -> bool:
        return size[0] * size[1] >= self.min_positions


def smoke(baseline: str) -> tuple[str, int, int, dict]:
    """(task, classes, image size, builder kwargs) of the baseline's registered tiny build."""
    entry = BASELINES.entry(baseline)
    settings = dict(entry.meta["smoke"])
    size = settings.pop("image_size")
    task = entry.meta["tasks"][0]
    return task, 3 if task == "cls" else 1, size, settings


@lru_cache(maxsize=None)
def smoke_points(baseline: str) -> dict:
    """The insertion points of the baseline's smoke build (built once on the meta device)."""
    task, classes, size, settings = smoke(baseline)
    with torch.device("meta"):
        return BASELINES.get(baseline)(task, classes, 3, size, **settings).insertion_points()


def reference_cases(kind: str) -> list[Case]:
    names = KINDS[kind].point_args
    cases = []
    for baseline, point in REFERENCE_POINTS[kind]:
        args = point_args(kind, smoke_points(baseline)[point])
        cases.append(Case(f"{baseline} {point} ({_args_text(names, args)})", args))
    for args in CONTRACT_ONLY[kind]:
        cases.append(Case(f"{kind} contract ({_args_text(names, args)})", args))
    return cases


def cost_case(kind: str) -> Case:
    args = COST_ARGS[kind]
    return Case(f"width-64 U-Net level 1 ({_args_text(KINDS[kind].point_args, args)})", args)


def _args_text(names: tuple[str, ...], args: tuple[int, ...]) -> str:
    return ", ".join(f"{name}={value}" for name, value in zip(names, args))


def inputs(kind: str, args: tuple[int, ...], batch: int, size: tuple[int, int]) -> tuple[torch.Tensor, ...]:
    """The forward arguments at a case: ``(x,)``, or ``(decoder, skip)`` for fusion (same size, as at a
    U-Net skip point)."""
    channels = args[0]
    if kind == "fusion":
        return torch.randn(batch, channels, *size), torch.randn(batch, channels, *size)
    return (torch.randn(batch, channels, *size),)


def expected_shape(kind: str, args: tuple[int, ...], batch: int, size: tuple[int, int]) -> tuple[int, ...]:
    """The output shape the kind's contract promises (suite.kinds)."""
    height, width = size
    if kind in ("attention", "fusion"):
        return (batch, args[0], height, width)
    out_channels, factor = args[1], args[2]
    if kind == "up":
        return (batch, out_channels, height * factor, width * factor)
    return (batch, out_channels, math.ceil(height / factor), math.ceil(width / factor))


def size_text(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"
