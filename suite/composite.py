"""Composite modules: attention modules combined in series or in parallel, placed as one module.

``build_unit(unit, channels)`` builds what one insertion places at a point of ``channels`` channels:
a registered module (``suite.modules.build_module``), or a composite of them (``suite.spec``):

- ``Serial`` (``(se>simam)``): x -> simam(se(x)), each member in turn;
- ``Parallel`` (``(se|sa):fusion``): every member on the same x, the outputs merged by the fusion:
  ``sum`` adds them; ``wsum`` weights them by softmax(w), w learned and 0 at initialisation (an equal
  average); ``cat`` concatenates them and maps the n * channels back to channels with a 1x1
  convolution (with bias).

A composite acts as one attention module: NCHW in, the same shape out, so modes ``after``,
``residual`` and the gated ones apply to it whole. ``describe`` gives the tree of a built unit
(members, fusion, resolved hyperparameters, parameters) for ``suite inspect``.
"""

from __future__ import annotations

import torch
from torch import nn

from suite.modules import MODULES, build_module, module_defaults, resolved_hparams
from suite.spec import Module, Unit


class Serial(nn.Sequential):
    """Members applied in order: ``(se>simam)`` is x -> simam(se(x))."""

    op = "serial"


class Parallel(nn.Module):
    """Members applied to the same input, their outputs merged by ``fusion`` (sum, wsum or cat)."""

    op = "parallel"

    def __init__(self, members: list[nn.Module], fusion: str, channels: int):
        super().__init__()
        self.members = nn.ModuleList(members)
        self.fusion = fusion
        if fusion == "wsum":
            self.weights = nn.Parameter(torch.zeros(len(members)))
        elif fusion == "cat":
            self.project = nn.Conv2d(len(members) * channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs = [member(x) for member in self.members]
        if self.fusion == "cat":
            return self.project(torch.cat(outputs, dim=1))
        if self.fusion == "wsum":
            weights = self.weights.softmax(dim=0).to(outputs[0].dtype)
            outputs = [weight * output for weight, output in zip(weights, outputs)]
        merged = outputs[0]
        for output in outputs[1:]:
            merged = merged + output
        return merged

    def extra_repr(self) -> str:
        return f"fusion={self.fusion}"


def build_unit(unit: Unit, channels: int) -> nn.Module:
    """Build ``unit`` (a canonical ``Module`` or ``Composite``) for a point of ``channels`` channels."""
    if isinstance(unit, Module):
        return build_module(unit.name, channels, **dict(unit.kwargs))
    members = [build_unit(member, channels) for member in unit.members]
    if unit.op == "serial":
        return Serial(*members)
    return Parallel(members, unit.fusion or "sum", channels)


def min_positions(unit: Unit) -> int:
    """The smallest map (H*W positions) every module of ``unit`` works on (entry meta ``min_positions``)."""
    return max(MODULES.entry(leaf.name).meta.get("min_positions", 1) for leaf in unit.leaves())


def describe(unit: Unit, module: nn.Module) -> dict:
    """The tree of a built unit: ``{module, hparams, params}`` for a module; ``{op, fusion, params,
    members}`` for a composite (``fusion`` None for serial), ``params`` counting everything below."""
    params = sum(p.numel() for p in module.parameters())
    if isinstance(unit, Module):
        hparams = {**module_defaults(unit.name), **dict(unit.kwargs), **resolved_hparams(module)}
        return {"module": unit.name, "hparams": hparams, "params": params}
    built = list(module.members) if isinstance(module, Parallel) else list(module)
    return {
        "op": unit.op,
        "fusion": (unit.fusion or "sum") if unit.op == "parallel" else None,
        "params": params,
        "members": [describe(member, part) for member, part in zip(unit.members, built)],
    }

