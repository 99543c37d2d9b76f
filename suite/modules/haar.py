"""Haar wavelet downsampling, HWD (kind: down).

Paper: Xu et al., "Haar wavelet downsampling: A simple but effective downsampling module for semantic
segmentation", Pattern Recognition 143 (2023) 109819 (no arXiv version). A one-level 2D Haar transform
splits every channel into its low-pass band and three detail bands (horizontal, vertical, diagonal) at
half the resolution, losslessly, and a 1x1 conv + BN + ReLU maps the 4 * in channels to out channels.

How ours differs: the transform is a fixed depthwise 2x2 stride-2 convolution with the orthonormal Haar
filters (a buffer, not a parameter), where the paper's code calls pytorch_wavelets; the bands are the
same up to sign and order, which the 1x1 conv absorbs. A map with odd sides is zero-padded at the bottom
and right first, so the output is ceil(H / 2) x ceil(W / 2). A stride of 2**n applies the transform n
times to the low-pass band and keeps every level's detail bands.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from timm.layers import ConvNormAct
from torch import nn

from suite.errors import SuiteError
from suite.modules._builder import with_hparams
from suite.modules._resample import pad_to_multiple
from suite.registry import MODULES


def haar_filters() -> torch.Tensor:
    """The four orthonormal 2x2 Haar filters (LL, LH, HL, HH), shape (4, 1, 2, 2)."""
    low = torch.tensor([1.0, 1.0]) / 2**0.5
    high = torch.tensor([1.0, -1.0]) / 2**0.5
    return torch.stack([torch.outer(a, b) for a in (low, high) for b in (low, high)])[:, None]


class HaarDownsample(nn.Module):
    """(B, in, H, W) -> Haar bands (levels of them) -> 1x1 conv + BN + ReLU -> (B, out, H/stride, W/stride)."""

    def __init__(self, in_channels: int, out_channels: int, levels: int):
        super().__init__()
        self.levels = levels
        self.register_buffer("filters", haar_filters(), persistent=False)
        self.conv = ConvNormAct(in_channels * (3 * levels + 1), out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        details = []
        for _ in range(self.levels):
            channels = x.shape[1]
            bands = F.conv2d(pad_to_multiple(x, 2), self.filters.repeat(channels, 1, 1, 1), stride=2, groups=channels)
            bands = bands.unflatten(1, (channels, 4))
            x = bands[:, :, 0]
            details.append(bands[:, :, 1:].flatten(1, 2))
        return self.conv(torch.cat([x, *details], dim=1))


@MODULES.register(
    "haar",
    kind="down",
    paper="Haar wavelet downsampling: A simple but effective downsampling module for semantic segmentation",
    arxiv=None,
    reference="Pattern Recognition 143 (2023) 109819",
)
def haar(in_channels: int, out_channels: int, stride: int = 2) -> nn.Module:
    if stride < 2 or stride & (stride - 1):
        raise SuiteError(f"haar: stride must be a power of two (2, 4, 8, ...), got {stride!r}")
    levels = stride.bit_length() - 1
    return with_hparams(HaarDownsample(in_channels, out_channels, levels), levels=levels)
