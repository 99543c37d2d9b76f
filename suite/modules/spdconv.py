"""SPD-Conv, space-to-depth followed by a non-strided convolution (kind: down).

Paper: Sunkara and Luo, "No More Strided Convolutions or Pooling: A New CNN Building Block for
Low-Resolution Images and Small Objects", arXiv:2208.03641. Every ``stride`` x ``stride`` patch is
moved into the channels (``F.pixel_unshuffle``: C -> C * stride**2 at H/stride x W/stride), so no
pixel is dropped, and a stride-1 kxk conv + BN + activation maps the result to out channels. The paper
uses a 3x3 conv in ResNet and YOLOv5 (with SiLU there); ours uses ReLU, as the U-Net does.

How ours differs: a map whose sides are not multiples of ``stride`` is zero-padded at the bottom and
right first (the paper assumes they are), so the output is ceil(H / stride) x ceil(W / stride).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from timm.layers import ConvNormAct
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import odd_kernel
from suite.modules._resample import check_factor, pad_to_multiple
from suite.registry import MODULES


class SpaceToDepthConv(nn.Module):
    """(B, in, H, W) -> pixel-unshuffle -> (B, in * s**2, H/s, W/s) -> conv -> (B, out, H/s, W/s)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, kernel_size: int):
        super().__init__()
        self.stride = stride
        self.conv = ConvNormAct(in_channels * stride**2, out_channels, kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.pixel_unshuffle(pad_to_multiple(x, self.stride), self.stride))


@MODULES.register(
    "spdconv",
    kind="down",
    paper="No More Strided Convolutions or Pooling: A New CNN Building Block for Low-Resolution Images and "
    "Small Objects",
    arxiv="2208.03641",
)
def spdconv(in_channels: int, out_channels: int, stride: int = 2, kernel_size: int = 3) -> nn.Module:
    check_factor("spdconv", "stride", stride)
    odd_kernel("spdconv", "kernel_size", kernel_size)
    return with_hparams(SpaceToDepthConv(in_channels, out_channels, stride, kernel_size), kernel_size=kernel_size)
