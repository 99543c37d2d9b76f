"""Modulated deformable double conv block, DCNv2 (kind: conv).

Paper: Zhu, Hu, Lin and Dai, "Deformable ConvNets v2: More Deformable, Better Results",
arXiv:1811.11168. A 3x3 convolution whose 9 sampling points get learned offsets and a learned
modulation (sigmoid) per output position, both predicted by a plain 3x3 conv that starts at zero (so
the block starts as a regular conv scaled by 0.5, as in the paper). The deformable convolution is
``torchvision.ops.DeformConv2d``. Replaces a double 3x3 conv+BN+ReLU block (U-Net's) with two
modulated deformable convs, each + BN + ReLU; the first carries the stride and maps in -> out channels.
The paper swaps the 3x3 convs of ResNet stages 3-5; here the point decides where. The deformable
convolution runs in float32 also under autocast (torchvision's CPU kernel has no bfloat16).
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn
from torchvision.ops import DeformConv2d

from suite.modules._builder import with_hparams
from suite.registry import MODULES

KERNEL = 3


class ModulatedDeformConv(nn.Module):
    """3x3 modulated deformable conv (offsets and masks from a zero-initialised conv), BN, ReLU."""

    def __init__(self, in_channels: int, out_channels: int, stride: int):
        super().__init__()
        taps = KERNEL * KERNEL
        self.offset_mask = nn.Conv2d(in_channels, 3 * taps, KERNEL, stride=stride, padding=KERNEL // 2)
        nn.init.zeros_(self.offset_mask.weight)
        nn.init.zeros_(self.offset_mask.bias)
        self.conv = DeformConv2d(in_channels, out_channels, KERNEL, stride=stride, padding=KERNEL // 2, bias=False)
        self.norm = nn.BatchNorm2d(out_channels)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        offsets_x_y, mask = self.offset_mask(x).split([2 * KERNEL * KERNEL, KERNEL * KERNEL], dim=1)
        with torch.autocast(x.device.type, enabled=False):  # torchvision's CPU kernel is float32 only
            out = self.conv(x.float(), offsets_x_y.float(), torch.sigmoid(mask.float()))
        return self.act(self.norm(out))


@MODULES.register(
    "dcn",
    kind="conv",
    paper="Deformable ConvNets v2: More Deformable, Better Results",
    arxiv="1811.11168",
)
def dcn(in_channels: int, out_channels: int, stride: int = 1) -> nn.Module:
    block = nn.Sequential(
        OrderedDict(
            dcn1=ModulatedDeformConv(in_channels, out_channels, stride),
            dcn2=ModulatedDeformConv(out_channels, out_channels, 1),
        )
    )
    return with_hparams(block)
