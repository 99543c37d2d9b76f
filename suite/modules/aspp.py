"""Atrous Spatial Pyramid Pooling, ASPP (kind: conv).

Paper: Chen et al., "Rethinking Atrous Convolution for Semantic Image Segmentation" (DeepLabv3),
arXiv:1706.05587. Wraps ``torchvision.models.segmentation.deeplabv3.ASPP``: a 1x1 conv, three 3x3
atrous convs and an image-pooling branch (each conv + BN + ReLU, out_channels wide), concatenated and
projected by 1x1 conv + BN + ReLU to out_channels.

How ours differs: it replaces a conv block, so its width is the point's out_channels (DeepLabv3: 256)
and the rates are sized for small maps: (r, 2r, 3r) with ``base_rate`` r=2, where DeepLabv3 uses
(6, 12, 18) on 33x33 maps (same pattern, r=6). A stride-2 point gets a 3x3 stride-2 conv + BN + ReLU in
front, since ASPP itself does not downsample. The dropout after the projection defaults to 0 (the block
it replaces has none; torchvision's 0.5 is a head's setting). The image-pooling branch has a BatchNorm
over 1x1 maps, so it needs training batches of at least 2 images.
"""

from __future__ import annotations

from timm.layers import ConvNormAct
from torch import nn
from torchvision.models.segmentation.deeplabv3 import ASPP

from suite.errors import SuiteError
from suite.modules._builder import with_hparams
from suite.modules._checks import at_least
from suite.registry import MODULES


@MODULES.register(
    "aspp",
    kind="conv",
    paper="Rethinking Atrous Convolution for Semantic Image Segmentation",
    arxiv="1706.05587",
)
def aspp(
    in_channels: int, out_channels: int, stride: int = 1, base_rate: int = 2, dropout: float = 0.0
) -> nn.Module:
    at_least("aspp", "base_rate", base_rate, 1)
    if not 0.0 <= dropout < 1.0:
        raise SuiteError(f"aspp: dropout must be in [0, 1), got {dropout!r}; e.g. aspp(dropout=0.1)")
    rates = (base_rate, 2 * base_rate, 3 * base_rate)
    pyramid = ASPP(out_channels if stride > 1 else in_channels, rates, out_channels)
    pyramid.project[-1] = nn.Dropout(dropout) if dropout else nn.Identity()
    if stride > 1:
        block = nn.Sequential()
        block.add_module("downsample", ConvNormAct(in_channels, out_channels, 3, stride=stride))
        block.add_module("aspp", pyramid)
    else:
        block = pyramid
    return with_hparams(block, base_rate=base_rate, rates=rates, dropout=dropout)
