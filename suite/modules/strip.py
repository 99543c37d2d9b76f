"""Strip pooling module, SPM (kind: attention).

Paper: Hou et al., "Strip Pooling: Rethinking Spatial Pooling for Scene Parsing", arXiv:2003.13328
(SPNet). The map is average-pooled along each row (to H x 1) and each column (to 1 x W); a 3x1 and a 1x3
conv + BN refine the two strips, which are expanded back to H x W and summed, followed by ReLU, a 1x1
conv and a sigmoid gate that multiplies the input. Every position so sees its whole row and column,
long and narrow context that square pooling windows miss. Same layers as the paper's strip pooling
block (full-width convs, ``mid_channels = channels``); ``rd_ratio`` below 1 narrows the strip convs.

timm's ``StripAttn`` (``get_attn("strip")``) is a different, minimal module (depthwise convs, no
norm) with no paper; this is SPNet's.
"""

from __future__ import annotations

import torch
from timm.layers import ConvNormAct, make_divisible
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import positive
from suite.registry import MODULES


class StripPooling(nn.Module):
    """x -> x * sigmoid(conv1x1(relu(expand(BN(conv3x1(pool_rows x))) + expand(BN(conv1x3(pool_cols x))))))."""

    def __init__(self, channels: int, mid_channels: int):
        super().__init__()
        self.rows = ConvNormAct(channels, mid_channels, (3, 1), padding=(1, 0), apply_act=False)
        self.cols = ConvNormAct(channels, mid_channels, (1, 3), padding=(0, 1), apply_act=False)
        self.fuse = nn.Conv2d(mid_channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        along_rows = self.rows(x.mean(dim=3, keepdim=True))  # (B, mid, H, 1)
        along_cols = self.cols(x.mean(dim=2, keepdim=True))  # (B, mid, 1, W)
        return x * torch.sigmoid(self.fuse(torch.relu(along_rows + along_cols)))


@MODULES.register(
    "strip",
    kind="attention",
    paper="Strip Pooling: Rethinking Spatial Pooling for Scene Parsing",
    arxiv="2003.13328",
    width_hparams=("mid_channels",),
)
def strip(channels: int, rd_ratio: float = 1.0) -> nn.Module:
    positive("strip", "rd_ratio", rd_ratio)
    mid_channels = make_divisible(channels * rd_ratio, 8, round_limit=0.0)
    return with_hparams(StripPooling(channels, mid_channels), rd_ratio=rd_ratio, mid_channels=mid_channels)
