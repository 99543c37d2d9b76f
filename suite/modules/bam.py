"""Bottleneck Attention Module, BAM (kind: attention).

Paper: Park, Woo, Lee and Kweon, "BAM: Bottleneck Attention Module", arXiv:1807.06514. Channel and
spatial attention in parallel: the channel branch is an MLP (hidden ``channels * rd_ratio``, r=16, with
BatchNorm and ReLU) on the global average; the spatial branch reduces the channels with a 1x1 conv, runs
two 3x3 convs with dilation 4 and reduces to one map with a 1x1 conv (BatchNorm and ReLU between). The
branches are broadcast and summed, M = sigmoid(M_c + M_s), and the output is x * (1 + M), so the module
refines the features without ever switching them off. Same layers as the paper's code; the paper puts
it at the bottlenecks between ResNet stages (``resnet50+bam@stage1,stage2,stage3`` has the paper's
25.92M parameters).

How ours differs: the hidden width is rounded to a multiple of 8, minimum 8 (the paper's C/16 would
leave one unit at 16 channels). The channel MLP's BatchNorm1d needs training batches of at least 2.
"""

from __future__ import annotations

import torch
from timm.layers import ConvNormAct, make_divisible
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import at_least, positive
from suite.registry import MODULES


class BottleneckAttention(nn.Module):
    """x -> x * (1 + sigmoid(channel(x) + spatial(x)))."""

    def __init__(self, channels: int, rd_channels: int, dilation: int):
        super().__init__()
        self.channel = nn.Sequential(
            nn.Linear(channels, rd_channels),
            nn.BatchNorm1d(rd_channels),
            nn.ReLU(inplace=True),
            nn.Linear(rd_channels, channels),
        )
        self.spatial = nn.Sequential(
            ConvNormAct(channels, rd_channels, 1, bias=True),
            ConvNormAct(rd_channels, rd_channels, 3, dilation=dilation, bias=True),
            ConvNormAct(rd_channels, rd_channels, 3, dilation=dilation, bias=True),
            nn.Conv2d(rd_channels, 1, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        channel = self.channel(x.mean(dim=(2, 3)))[..., None, None]  # (B, C, 1, 1)
        return x * (1.0 + torch.sigmoid(channel + self.spatial(x)))


@MODULES.register(
    "bam",
    kind="attention",
    paper="BAM: Bottleneck Attention Module",
    arxiv="1807.06514",
    width_hparams=("rd_channels",),
)
def bam(channels: int, rd_ratio: float = 1 / 16, dilation: int = 4) -> nn.Module:
    positive("bam", "rd_ratio", rd_ratio)
    at_least("bam", "dilation", dilation, 1)
    rd_channels = make_divisible(channels * rd_ratio, 8, round_limit=0.0)
    return with_hparams(
        BottleneckAttention(channels, rd_channels, dilation), rd_ratio=rd_ratio, rd_channels=rd_channels, dilation=dilation
    )
