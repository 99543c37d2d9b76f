"""Concurrent spatial and channel squeeze & excitation, scSE (kind: attention).

Paper: Roy, Navab and Wachinger, "Concurrent Spatial and Channel Squeeze & Excitation in Fully
Convolutional Networks", arXiv:1803.02579 (MICCAI 2018). The channel branch (cSE) is SE, built from
``timm.layers.SEModule``; the spatial branch (sSE) is a 1x1 conv to one map and a sigmoid gate per
position. The branches are combined by addition as in the paper (``combine=max`` takes the element-wise
maximum, the journal version's choice). cSE's hidden width is the paper's C/2 (``rd_ratio=0.5``), rounded
to a multiple of 8 with a minimum of 8; segmentation_models_pytorch's SCSEModule uses C/16 and no
rounding, which leaves no hidden units below 16 channels.
"""

from __future__ import annotations

import torch
from timm.layers import SEModule, make_divisible
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import one_of, positive
from suite.registry import MODULES

COMBINES = ("add", "max")


class SpatialChannelSE(nn.Module):
    """x -> cSE(x) + sSE(x) (or their element-wise maximum)."""

    def __init__(self, channels: int, rd_channels: int, combine: str):
        super().__init__()
        self.channel_se = SEModule(channels, rd_channels=rd_channels)
        self.spatial_conv = nn.Conv2d(channels, 1, kernel_size=1)
        self.combine = combine

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        channel = self.channel_se(x)
        spatial = x * torch.sigmoid(self.spatial_conv(x))
        return channel + spatial if self.combine == "add" else torch.maximum(channel, spatial)


@MODULES.register(
    "scse",
    kind="attention",
    paper="Concurrent Spatial and Channel Squeeze & Excitation in Fully Convolutional Networks",
    arxiv="1803.02579",
    width_hparams=("rd_channels",),
)
def scse(channels: int, rd_ratio: float = 1 / 2, combine: str = "add") -> nn.Module:
    positive("scse", "rd_ratio", rd_ratio)
    one_of("scse", "combine", combine, COMBINES)
    rd_channels = make_divisible(channels * rd_ratio, 8, round_limit=0.0)
    return with_hparams(
        SpatialChannelSE(channels, rd_channels, combine),
        rd_ratio=rd_ratio,
        rd_channels=rd_channels,
        combine=combine,
    )
