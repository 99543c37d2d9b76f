"""Light CBAM (kind: attention).

Paper: Woo et al., "CBAM: Convolutional Block Attention Module", arXiv:1807.06521, in timm's lighter
form ``timm.layers.LightCbamModule`` (wrapped): the average- and max-pooled descriptors are averaged
before one pass through the channel MLP, and the spatial conv sees their mean instead of both maps.
This variant is timm's, not the paper's. Hidden width as in our ``cbam``: ``channels * rd_ratio``
rounded to a multiple of 8, minimum 8.
"""

from __future__ import annotations

from timm.layers.cbam import LightCbamModule
from torch import nn

from suite.modules.cbam import build_cbam
from suite.registry import MODULES


@MODULES.register(
    "lcbam",
    kind="attention",
    paper="CBAM: Convolutional Block Attention Module",
    arxiv="1807.06521",
    width_hparams=("rd_channels",),
)
def lcbam(channels: int, rd_ratio: float = 1 / 16, spatial_kernel_size: int = 7) -> nn.Module:
    return build_cbam("lcbam", LightCbamModule, channels, rd_ratio, spatial_kernel_size)
