"""Resize-convolution upsampling (kind: up).

Paper: Odena, Dumoulin and Olah, "Deconvolution and Checkerboard Artifacts",
Distill 2016, doi:10.23915/distill.00003 (no arXiv version). Instead of a transposed convolution, the map is
resized (bilinear by default, ``mode=nearest`` as in the article's main example) and a kxk convolution
maps in -> out channels, so every output pixel sees the same number of input taps and no
checkerboard pattern appears. Like the transposed conv it replaces in the U-Net, the conv has a bias
and no norm or activation; ``align_corners`` is false (torch's default).
"""

from __future__ import annotations

from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import odd_kernel, one_of
from suite.modules._resample import check_factor
from suite.registry import MODULES

MODES = ("bilinear", "nearest", "bicubic")


@MODULES.register(
    "resizeconv",
    kind="up",
    paper="Deconvolution and Checkerboard Artifacts",
    arxiv=None,
    reference="Distill 2016, doi:10.23915/distill.00003",
)
def resizeconv(
    in_channels: int, out_channels: int, scale: int = 2, mode: str = "bilinear", kernel_size: int = 3
) -> nn.Module:
    check_factor("resizeconv", "scale", scale)
    one_of("resizeconv", "mode", mode, MODES)
    odd_kernel("resizeconv", "kernel_size", kernel_size)
    block = nn.Sequential()
    block.add_module("resize", nn.Upsample(scale_factor=scale, mode=mode))
    block.add_module("conv", nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2))
    return with_hparams(block, mode=mode, kernel_size=kernel_size)
