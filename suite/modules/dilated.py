"""Dilated double conv block (kind: conv).

Paper: Yu and Koltun, "Multi-Scale Context Aggregation by Dilated Convolutions", arXiv:1511.07122.
Replaces a double 3x3 conv+BN+ReLU block (U-Net's) with the same block whose two 3x3 convs are dilated,
widening the receptive field at unchanged parameter count; built from ``timm.layers.ConvNormAct``,
padded so that the output is ceil(H / stride) x ceil(W / stride). The paper stacks a context module of
exponentially growing dilations; here one dilation is used per block and the point decides where.
A dilation larger than the map still works (the zero padding makes the outer taps see nothing).
"""

from __future__ import annotations

from collections import OrderedDict

from timm.layers import ConvNormAct
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import at_least
from suite.registry import MODULES


@MODULES.register(
    "dilated",
    kind="conv",
    paper="Multi-Scale Context Aggregation by Dilated Convolutions",
    arxiv="1511.07122",
)
def dilated(in_channels: int, out_channels: int, stride: int = 1, dilation: int = 2) -> nn.Module:
    at_least("dilated", "dilation", dilation, 1)
    block = nn.Sequential(
        OrderedDict(
            conv1=ConvNormAct(in_channels, out_channels, 3, stride=stride, dilation=dilation),
            conv2=ConvNormAct(out_channels, out_channels, 3, dilation=dilation),
        )
    )
    return with_hparams(block, dilation=dilation)
