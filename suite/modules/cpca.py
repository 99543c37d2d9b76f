"""Channel prior convolutional attention, CPCA (kind: attention).

Paper: Huang et al., "Channel prior convolutional attention for medical image segmentation",
arXiv:2306.05196. Channel attention first: a shared MLP (1x1 convs, hidden ``channels * rd_ratio``)
on the global average and on the global maximum, each through a sigmoid, summed; the features are
scaled by it. Then spatial attention from the channel-refined features: a 5x5 depthwise conv, three
multi-scale depthwise strip-conv pairs (1x7/7x1, 1x11/11x1, 1x21/21x1) added to it, and a 1x1 conv
that mixes the channels; the result multiplies the features (no sigmoid), so each channel keeps its own
spatial map, the "channel prior".

How ours differs: the paper's code wraps the attention in a 1x1 conv + GELU before and the same 1x1 conv
after (its CPCA block); ours is the attention alone, the part that plugs into another network. The
hidden width is rounded to a multiple of 8, minimum 8 (the paper uses C/4 in its network).
"""

from __future__ import annotations

import torch
from timm.layers import make_divisible
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import positive
from suite.registry import MODULES

STRIP_KERNELS = (7, 11, 21)


def _depthwise(channels: int, kernel: tuple[int, int]) -> nn.Conv2d:
    return nn.Conv2d(channels, channels, kernel, padding=(kernel[0] // 2, kernel[1] // 2), groups=channels)


class ChannelPriorAttention(nn.Module):
    """x -> c = x * (sigmoid(mlp(avg)) + sigmoid(mlp(max))) -> c * conv1x1(dw5(c) + sum of strip pairs)."""

    def __init__(self, channels: int, rd_channels: int):
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Conv2d(channels, rd_channels, 1), nn.ReLU(inplace=True), nn.Conv2d(rd_channels, channels, 1)
        )
        self.square = _depthwise(channels, (5, 5))
        self.strips = nn.ModuleList(
            nn.Sequential(_depthwise(channels, (1, k)), _depthwise(channels, (k, 1))) for k in STRIP_KERNELS
        )
        self.mix = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        average = torch.sigmoid(self.mlp(x.mean(dim=(2, 3), keepdim=True)))
        maximum = torch.sigmoid(self.mlp(x.amax(dim=(2, 3), keepdim=True)))
        x = x * (average + maximum)
        square = self.square(x)
        return x * self.mix(square + sum(strip(square) for strip in self.strips))


@MODULES.register(
    "cpca",
    kind="attention",
    paper="Channel prior convolutional attention for medical image segmentation",
    arxiv="2306.05196",
    width_hparams=("rd_channels",),
)
def cpca(channels: int, rd_ratio: float = 1 / 4) -> nn.Module:
    positive("cpca", "rd_ratio", rd_ratio)
    rd_channels = make_divisible(channels * rd_ratio, 8, round_limit=0.0)
    return with_hparams(ChannelPriorAttention(channels, rd_channels), rd_ratio=rd_ratio, rd_channels=rd_channels)
