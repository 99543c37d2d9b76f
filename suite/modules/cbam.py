"""Convolutional Block Attention Module, CBAM (kind: attention).

Paper: Woo et al., "CBAM: Convolutional Block Attention Module", arXiv:1807.06521.
Wraps ``timm.layers.CbamModule``: channel attention (a shared MLP over average- and max-pooled
descriptors) followed by spatial attention (a 7x7 conv over channel-wise mean and max).
The MLP's hidden width is ``channels * rd_ratio`` (the paper's r=16) rounded to a multiple of 8 with a
minimum of 8, as our SE does; the paper does not round, which at 16 channels would leave one hidden unit.
timm adds a BatchNorm after the spatial conv.
"""

from __future__ import annotations

from timm.layers import make_divisible
from timm.layers.cbam import CbamModule
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import odd_kernel, positive
from suite.registry import MODULES


@MODULES.register(
    "cbam",
    kind="attention",
    paper="CBAM: Convolutional Block Attention Module",
    arxiv="1807.06521",
    width_hparams=("rd_channels",),
)
def cbam(channels: int, rd_ratio: float = 1 / 16, spatial_kernel_size: int = 7) -> nn.Module:
    return build_cbam("cbam", CbamModule, channels, rd_ratio, spatial_kernel_size)


def build_cbam(
    name: str, module_class: type[nn.Module], channels: int, rd_ratio: float, spatial_kernel_size: int
) -> nn.Module:
    """A timm CBAM-style module (``CbamModule`` or ``LightCbamModule``) with checked arguments and the
    rounded hidden width."""
    positive(name, "rd_ratio", rd_ratio)
    odd_kernel(name, "spatial_kernel_size", spatial_kernel_size)
    rd_channels = make_divisible(channels * rd_ratio, 8, round_limit=0.0)
    module = module_class(channels, rd_channels=rd_channels, spatial_kernel_size=spatial_kernel_size)
    return with_hparams(
        module, rd_ratio=rd_ratio, rd_channels=rd_channels, spatial_kernel_size=spatial_kernel_size
    )
