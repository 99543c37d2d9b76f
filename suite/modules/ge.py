"""Gather-Excite, GE (kind: attention).

Paper: Hu et al., "Gather-Excite: Exploiting Feature Context in Convolutional Neural Networks",
arXiv:1810.12348. Wraps ``timm.layers.GatherExcite`` and keeps its forward: gather context over an
extent (``extent=0``: the whole map), excite with an SE-style MLP, resize the gate to the map with
nearest interpolation, multiply. Works for any H and W (a gather larger than the map sees all of it).

How ours differs: the default is GE-theta+ (learned depthwise gather with BatchNorm, plus the MLP) at
extent 8, because the paper's best setting, a learned gather over the global extent, needs the feature
size at build time, which a point does not give; ``extent=0, extra_params=false`` is the parameter-free
global gather. The MLP's hidden width is ``channels * rd_ratio`` rounded to a multiple of 8, minimum 8.
timm 1.0.31's constructor passes device/dtype positionally to its MLP and gather convs and fails, so we
build those two parts (``mlp``, ``gather``) from timm layers ourselves.
"""

from __future__ import annotations

import math

from timm.layers import ConvMlp, GatherExcite, create_conv2d, make_divisible
from torch import nn

from suite.errors import SuiteError
from suite.modules._builder import with_hparams
from suite.modules._checks import positive
from suite.registry import MODULES


class _GatherExcite(GatherExcite):
    """timm's GatherExcite with its MLP and learned gather built here (see the module docstring)."""

    def __init__(self, channels: int, extent: int, extra_params: bool, rd_channels: int):
        super().__init__(channels, extent=0 if extra_params else extent, use_mlp=False)
        self.extent = extent
        if extra_params:
            self.gather = _learned_gather(channels, extent)
        self.mlp = ConvMlp(channels, rd_channels, act_layer=nn.ReLU)


def _learned_gather(channels: int, extent: int) -> nn.Sequential:
    """log2(extent) depthwise 3x3 stride-2 convs with BatchNorm, ReLU between them (the paper's GE-theta)."""
    gather = nn.Sequential()
    steps = int(math.log2(extent))
    for step in range(1, steps + 1):
        gather.add_module(f"conv{step}", create_conv2d(channels, channels, 3, stride=2, depthwise=True))
        gather.add_module(f"norm{step}", nn.BatchNorm2d(channels))
        if step < steps:
            gather.add_module(f"act{step}", nn.ReLU(inplace=True))
    return gather


@MODULES.register(
    "ge",
    kind="attention",
    paper="Gather-Excite: Exploiting Feature Context in Convolutional Neural Networks",
    arxiv="1810.12348",
    width_hparams=("rd_channels",),
)
def ge(channels: int, extent: int = 8, extra_params: bool = True, rd_ratio: float = 1 / 16) -> nn.Module:
    if extent != 0 and (extent < 2 or extent & (extent - 1)):
        raise SuiteError(f"ge: extent must be 0 (global) or a power of two (2, 4, 8, 16, ...), got {extent!r}")
    if extent == 0 and extra_params:
        raise SuiteError(
            "ge: a learned gather over the global extent needs a fixed feature size; "
            "use extent=2, 4, 8, ... with extra_params=true, or extent=0 with extra_params=false"
        )
    positive("ge", "rd_ratio", rd_ratio)
    rd_channels = make_divisible(channels * rd_ratio, 8, round_limit=0.0)
    return with_hparams(
        _GatherExcite(channels, extent, extra_params, rd_channels),
        extent=extent,
        extra_params=extra_params,
        rd_ratio=rd_ratio,
        rd_channels=rd_channels,
    )
