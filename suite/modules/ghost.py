"""Ghost double conv block (kind: conv).

Paper: Han et al., "GhostNet: More Features from Cheap Operations", arXiv:1911.11907. A Ghost module
makes half of its output channels with an ordinary convolution ("intrinsic" maps) and the other half
from those with a cheap 3x3 depthwise convolution ("ghost" maps), each followed by BN and ReLU.
Replaces a double 3x3 conv+BN+ReLU block (U-Net's) with two Ghost modules wrapping
``timm.models.ghostnet.GhostModule``, with 3x3 primary convolutions as in the paper's Ghost-VGG and
Ghost-ResNet (where every conv is replaced by a Ghost module of the same kernel), ratio s=2 and
depthwise kernel d=3. The first carries the stride and maps in -> out channels.
"""

from __future__ import annotations

import math
from collections import OrderedDict

from timm.models.ghostnet import GhostModule
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import at_least, odd_kernel
from suite.registry import MODULES


@MODULES.register(
    "ghost",
    kind="conv",
    paper="GhostNet: More Features from Cheap Operations",
    arxiv="1911.11907",
    width_hparams=("primary_channels",),
)
def ghost(
    in_channels: int, out_channels: int, stride: int = 1, kernel_size: int = 3, ratio: int = 2, dw_size: int = 3
) -> nn.Module:
    odd_kernel("ghost", "kernel_size", kernel_size)
    at_least("ghost", "ratio", ratio, 2)
    odd_kernel("ghost", "dw_size", dw_size)
    settings = dict(kernel_size=kernel_size, ratio=ratio, dw_size=dw_size)
    block = nn.Sequential(
        OrderedDict(
            ghost1=GhostModule(in_channels, out_channels, stride=stride, **settings),
            ghost2=GhostModule(out_channels, out_channels, **settings),
        )
    )
    return with_hparams(block, **settings, primary_channels=math.ceil(out_channels / ratio))
