"""Global attention mechanism, GAM (kind: attention).

Paper: Liu, Shao and Hoffmann, "Global Attention Mechanism: Retain Information to Enhance
Channel-Spatial Interactions", arXiv:2112.05561. Channel then spatial attention, both without pooling:
the channel gate is a two-layer MLP (reduction r=4, ReLU) applied to every position's channel vector,
then a sigmoid; the spatial gate is a 7x7 conv to ``channels / r`` + BN + ReLU, a 7x7 conv back + BN,
and a sigmoid. x -> x * M_c(x), then -> x * M_s(x). Same layers as the paper's code (the MLP as 1x1
convs). GAM is heavy: about 25 * channels**2 parameters at r=4; ``rd_ratio`` narrows it.

How ours differs: the hidden width is rounded to a multiple of 8, minimum 8.
"""

from __future__ import annotations

import torch
from timm.layers import ConvNormAct, make_divisible
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import odd_kernel, positive
from suite.registry import MODULES


class GlobalAttention(nn.Module):
    """x -> x * sigmoid(MLP(x)) -> y * sigmoid(BN(conv(ReLU(BN(conv(y))))))."""

    def __init__(self, channels: int, rd_channels: int, kernel_size: int):
        super().__init__()
        self.channel = nn.Sequential(
            nn.Conv2d(channels, rd_channels, 1), nn.ReLU(inplace=True), nn.Conv2d(rd_channels, channels, 1)
        )
        self.spatial = nn.Sequential(
            ConvNormAct(channels, rd_channels, kernel_size, bias=True),
            ConvNormAct(rd_channels, channels, kernel_size, bias=True, apply_act=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x * torch.sigmoid(self.channel(x))
        return x * torch.sigmoid(self.spatial(x))


@MODULES.register(
    "gam",
    kind="attention",
    paper="Global Attention Mechanism: Retain Information to Enhance Channel-Spatial Interactions",
    arxiv="2112.05561",
    width_hparams=("rd_channels",),
)
def gam(channels: int, rd_ratio: float = 1 / 4, kernel_size: int = 7) -> nn.Module:
    positive("gam", "rd_ratio", rd_ratio)
    odd_kernel("gam", "kernel_size", kernel_size)
    rd_channels = make_divisible(channels * rd_ratio, 8, round_limit=0.0)
    return with_hparams(
        GlobalAttention(channels, rd_channels, kernel_size), rd_ratio=rd_ratio, rd_channels=rd_channels, kernel_size=kernel_size
    )
