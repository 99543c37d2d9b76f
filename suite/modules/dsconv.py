"""Depthwise-separable double conv block (kind: conv).

Paper: Howard et al., "MobileNets: Efficient Convolutional Neural Networks for Mobile Vision
Applications", arXiv:1704.04861. Replaces a double 3x3 conv+BN+ReLU block (U-Net's) with two MobileNet
depthwise-separable units: depthwise kxk conv + BN + ReLU, then pointwise 1x1 conv + BN + ReLU, built
from ``timm.layers.ConvNormAct``. The first unit carries the stride and maps in -> out channels, the
second keeps out channels. MobileNet's width and resolution multipliers do not apply: widths come from
the point.
"""

from __future__ import annotations

from collections import OrderedDict

from timm.layers import ConvNormAct
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import odd_kernel
from suite.registry import MODULES


@MODULES.register(
    "dsconv",
    kind="conv",
    paper="MobileNets: Efficient Convolutional Neural Networks for Mobile Vision Applications",
    arxiv="1704.04861",
)
def dsconv(in_channels: int, out_channels: int, stride: int = 1, kernel_size: int = 3) -> nn.Module:
    odd_kernel("dsconv", "kernel_size", kernel_size)
    block = nn.Sequential(
        OrderedDict(
            depthwise1=ConvNormAct(in_channels, in_channels, kernel_size, stride=stride, groups=in_channels),
            pointwise1=ConvNormAct(in_channels, out_channels, 1),
            depthwise2=ConvNormAct(out_channels, out_channels, kernel_size, groups=out_channels),
            pointwise2=ConvNormAct(out_channels, out_channels, 1),
        )
    )
    return with_hparams(block, kernel_size=kernel_size)
