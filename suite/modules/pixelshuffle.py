"""Sub-pixel convolution upsampling, pixel shuffle (kind: up).

Paper: Shi et al., "Real-Time Single Image and Video Super-Resolution Using an Efficient Sub-Pixel
Convolutional Neural Network", arXiv:1609.05158. A kxk convolution at the low resolution produces
``out_channels * scale**2`` channels, and ``nn.PixelShuffle`` rearranges them into an
``out_channels`` map ``scale`` times larger. The conv has a bias and no norm or activation, like the
transposed conv it replaces in the U-Net.

How ours differs: the conv starts with ICNR initialisation (Aitken et al., arXiv:1707.02937): the
weights of the ``scale**2`` sub-pixel copies of each output channel start equal, so at initialisation
the layer is a resize-convolution (nearest) and shows no checkerboard artifacts. ``icnr=false`` keeps
torch's default initialisation, the paper's.
"""

from __future__ import annotations

import torch
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import odd_kernel
from suite.modules._resample import check_factor
from suite.registry import MODULES


def icnr_(conv: nn.Conv2d, scale: int) -> None:
    """Make the ``scale**2`` sub-pixel filters of every output channel equal (ICNR), in place."""
    out_channels = conv.out_channels // scale**2
    with torch.no_grad():
        conv.weight.copy_(conv.weight[:out_channels].repeat_interleave(scale**2, dim=0))
        if conv.bias is not None:
            conv.bias.copy_(conv.bias[:out_channels].repeat_interleave(scale**2))


@MODULES.register(
    "pixelshuffle",
    kind="up",
    paper="Real-Time Single Image and Video Super-Resolution Using an Efficient Sub-Pixel Convolutional "
    "Neural Network",
    arxiv="1609.05158",
)
def pixelshuffle(
    in_channels: int, out_channels: int, scale: int = 2, kernel_size: int = 3, icnr: bool = True
) -> nn.Module:
    check_factor("pixelshuffle", "scale", scale)
    odd_kernel("pixelshuffle", "kernel_size", kernel_size)
    conv = nn.Conv2d(in_channels, out_channels * scale**2, kernel_size, padding=kernel_size // 2)
    if icnr:
        icnr_(conv, scale)
    block = nn.Sequential()
    block.add_module("conv", conv)
    block.add_module("shuffle", nn.PixelShuffle(scale))
    return with_hparams(block, kernel_size=kernel_size, icnr=icnr)
