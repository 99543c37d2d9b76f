"""Selective Kernel double conv block, SK (kind: conv).

Paper: Li et al., "Selective Kernel Networks", arXiv:1903.06586. Replaces a double 3x3 conv+BN+ReLU
block (U-Net's) with two SK convolutions, each ``timm.layers.SelectiveKernel``: a 3x3 and a dilated 3x3
path (the paper's 3x3 and 5x5 kernels, the 5x5 as a dilated 3x3 as in the paper), fused by a softmax
selection computed from the pooled sum of both. The first carries the stride and maps in -> out channels.

How ours differs: plain (not grouped) convs, where SKNet builds on ResNeXt's 32 groups; timm splits the input channels between the paths (halving their cost); with an odd
number of input channels (e.g. 1 or 3 at a network's first block) the input is not split. The
selection MLP width is ``out_channels * rd_ratio`` (the paper's r=16) rounded to a multiple of 8, minimum
8, instead of the paper's floor L=32, which was set for widths of 128-1024 and would exceed the channels
of a 16-wide U-Net.
"""

from __future__ import annotations

from collections import OrderedDict

from timm.layers import SelectiveKernel, make_divisible
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import positive
from suite.registry import MODULES


@MODULES.register(
    "sk",
    kind="conv",
    paper="Selective Kernel Networks",
    arxiv="1903.06586",
    width_hparams=("rd_channels",),
)
def sk(in_channels: int, out_channels: int, stride: int = 1, rd_ratio: float = 1 / 16) -> nn.Module:
    positive("sk", "rd_ratio", rd_ratio)
    rd_channels = make_divisible(out_channels * rd_ratio, 8, round_limit=0.0)
    block = nn.Sequential(
        OrderedDict(
            sk1=SelectiveKernel(
                in_channels,
                out_channels,
                stride=stride,
                rd_channels=rd_channels,
                split_input=in_channels % 2 == 0,
            ),
            sk2=SelectiveKernel(out_channels, out_channels, rd_channels=rd_channels, split_input=out_channels % 2 == 0),
        )
    )
    return with_hparams(block, rd_ratio=rd_ratio, rd_channels=rd_channels)
