"""Coordinate Attention, and timm's simplified form scoord (kind: attention).

Paper: Hou, Zhou and Feng, "Coordinate Attention for Efficient Mobile Network Design",
arXiv:2103.02907. Wraps ``timm.layers.coord_attn.CoordAttn``: pooling along H and along W separately,
a shared 1x1 conv + BatchNorm + h-swish, then one sigmoid gate per axis, so the attention keeps
positional information along each axis. Works for any H and W.
The hidden width follows the paper's rule max(8, channels * rd_ratio) with r=32 (timm's default is
channels/16 * 2/3 rounded to 8).

``scoord`` wraps ``timm.layers.coord_attn.SimpleCoordAttn``, timm's simplification (not in the paper):
linear layers instead of 1x1 convs, no norm, SiLU, and one gate over the sum of the H and W logits
instead of the product of two gates. Its hidden width is timm's ``channels * rd_ratio * 2/3`` rounded
to a multiple of 8 (rd_ratio=0.25).
"""

from __future__ import annotations

from timm.layers import make_divisible
from timm.layers.coord_attn import CoordAttn, SimpleCoordAttn
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import at_least, positive
from suite.registry import MODULES


@MODULES.register(
    "coord",
    kind="attention",
    paper="Coordinate Attention for Efficient Mobile Network Design",
    arxiv="2103.02907",
    width_hparams=("rd_channels",),
)
def coord(channels: int, rd_ratio: float = 1 / 32, min_rd_channels: int = 8) -> nn.Module:
    positive("coord", "rd_ratio", rd_ratio)
    at_least("coord", "min_rd_channels", min_rd_channels, 1)
    rd_channels = max(min_rd_channels, int(channels * rd_ratio))
    return with_hparams(
        CoordAttn(channels, rd_channels=rd_channels),
        rd_ratio=rd_ratio,
        min_rd_channels=min_rd_channels,
        rd_channels=rd_channels,
    )


@MODULES.register(
    "scoord",
    kind="attention",
    paper="Coordinate Attention for Efficient Mobile Network Design",
    arxiv="2103.02907",
    width_hparams=("rd_channels",),
)
def scoord(channels: int, rd_ratio: float = 1 / 4) -> nn.Module:
    positive("scoord", "rd_ratio", rd_ratio)
    rd_channels = make_divisible(channels * rd_ratio * 2 / 3, 8, round_limit=0.0)
    return with_hparams(
        SimpleCoordAttn(channels, rd_channels=rd_channels), rd_ratio=rd_ratio, rd_channels=rd_channels
    )
