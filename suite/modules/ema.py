"""Efficient multi-scale attention, EMA (kind: attention).

Paper: Ouyang et al., "Efficient Multi-Scale Attention Module with Cross-Spatial Learning",
arXiv:2305.13563 (ICASSP 2023). The channels are folded into ``groups`` sub-features (``factor`` 32 in
the paper). Per group, a 1x1 branch (coordinate-attention style: pool along H and W, a shared 1x1 conv,
two sigmoid gates, GroupNorm) and a 3x3 conv branch each summarise themselves into a softmax over
channels of their global average; each softmax weights the other branch's maps (cross-spatial
learning), the two weighted sums give one spatial logit map per group, and its sigmoid gates the group.
Same layers as the paper's code; the convs are shared by all groups, so the parameters grow with
(channels / groups)**2.

How ours differs: groups that do not divide the channels are reduced to the largest common divisor
(``effective_groups``), where the paper's code requires divisibility.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import at_least
from suite.registry import MODULES


class EfficientMultiScaleAttention(nn.Module):
    """Per channel group: gate = sigmoid(softmax(gap(b1)) . b3 + softmax(gap(b3)) . b1)."""

    def __init__(self, channels: int, groups: int):
        super().__init__()
        width = channels // groups
        self.groups = groups
        self.axis_conv = nn.Conv2d(width, width, 1)
        self.local_conv = nn.Conv2d(width, width, 3, padding=1)
        self.norm = nn.GroupNorm(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = x.shape
        grouped = x.reshape(batch * self.groups, channels // self.groups, height, width)
        strips = torch.cat([grouped.mean(dim=3, keepdim=True), grouped.mean(dim=2, keepdim=True).transpose(2, 3)], 2)
        along_h, along_w = self.axis_conv(strips).split([height, width], dim=2)
        axis_branch = self.norm(grouped * torch.sigmoid(along_h) * torch.sigmoid(along_w.transpose(2, 3)))
        local_branch = self.local_conv(grouped)
        axis_weights = axis_branch.mean(dim=(2, 3)).softmax(dim=-1)  # (BG, C/G)
        local_weights = local_branch.mean(dim=(2, 3)).softmax(dim=-1)
        logits = torch.einsum("gc,gchw->ghw", axis_weights, local_branch)
        logits = logits + torch.einsum("gc,gchw->ghw", local_weights, axis_branch)
        return (grouped * torch.sigmoid(logits)[:, None]).reshape(batch, channels, height, width)


@MODULES.register(
    "ema",
    kind="attention",
    paper="Efficient Multi-Scale Attention Module with Cross-Spatial Learning",
    arxiv="2305.13563",
)
def ema(channels: int, groups: int = 32) -> nn.Module:
    at_least("ema", "groups", groups, 1)
    effective = math.gcd(groups, channels)
    return with_hparams(EfficientMultiScaleAttention(channels, effective), groups=groups, effective_groups=effective)
