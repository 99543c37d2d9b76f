"""Shuffle attention, SA (kind: attention).

Paper: Zhang and Yang, "SA-Net: Shuffle Attention for Deep Convolutional Neural Networks",
arXiv:2102.00240. The channels are split into ``groups`` (64 in the paper), each group into two halves:
one half gets a channel gate (global average, a per-channel scale and shift, sigmoid), the other a
spatial gate (GroupNorm per channel, a per-channel scale and shift, sigmoid). The halves are joined and
a channel shuffle with 2 groups mixes them. 3 * channels / groups parameters; scales start at 0 and
shifts at 1, as in the paper's code.

How ours differs: the paper requires channels divisible by 2 * groups; ours reduces the groups to the
largest G that divides ``channels / 2`` and is at most ``groups`` (``effective_groups``), so 16 or 24
channels work. Odd channel counts cannot be halved and raise an error.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from suite.errors import SuiteError
from suite.modules._builder import with_hparams
from suite.modules._checks import at_least
from suite.registry import MODULES


class ShuffleAttention(nn.Module):
    """Per group: channel-gated half and spatially gated half, rejoined and shuffled."""

    def __init__(self, channels: int, groups: int):
        super().__init__()
        self.groups = groups
        half = channels // (2 * groups)
        self.channel_weight = nn.Parameter(torch.zeros(1, half, 1, 1))
        self.channel_bias = nn.Parameter(torch.ones(1, half, 1, 1))
        self.spatial_weight = nn.Parameter(torch.zeros(1, half, 1, 1))
        self.spatial_bias = nn.Parameter(torch.ones(1, half, 1, 1))
        self.norm = nn.GroupNorm(half, half)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = x.shape
        grouped = x.reshape(batch * self.groups, channels // self.groups, height, width)
        to_channel, to_spatial = grouped.chunk(2, dim=1)
        channel_gate = torch.sigmoid(self.channel_weight * to_channel.mean(dim=(2, 3), keepdim=True) + self.channel_bias)
        spatial_gate = torch.sigmoid(self.spatial_weight * self.norm(to_spatial) + self.spatial_bias)
        out = torch.cat([to_channel * channel_gate, to_spatial * spatial_gate], dim=1)
        out = out.reshape(batch, 2, channels // 2, height, width).transpose(1, 2)  # channel shuffle, 2 groups
        return out.reshape(batch, channels, height, width)


@MODULES.register(
    "sa",
    kind="attention",
    paper="SA-Net: Shuffle Attention for Deep Convolutional Neural Networks",
    arxiv="2102.00240",
)
def sa(channels: int, groups: int = 64) -> nn.Module:
    at_least("sa", "groups", groups, 1)
    if channels % 2:
        raise SuiteError(f"sa: channels must be even (each group is halved), got {channels}")
    effective = math.gcd(groups, channels // 2)
    return with_hparams(ShuffleAttention(channels, effective), groups=groups, effective_groups=effective)
