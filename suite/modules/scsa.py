"""Spatial and channel synergistic attention, SCSA (kind: attention).

Paper: Si et al., "SCSA: Exploring the Synergistic Effects Between Spatial and Channel Attention",
arXiv:2407.05128. Spatial first (SMSA): the map is pooled along H and along W, the channels are split
into four groups whose strips go through depthwise 1D convs of kernel 3, 5, 7 and 9 (shared by the two
axes), GroupNorm with 4 groups and a sigmoid: one gate per row and one per column, multiplied onto the
map. Then channel self-attention (PCSA) on a compressed copy: average-pooled over ``window_size`` x
``window_size`` windows, GroupNorm, depthwise 1x1 q/k/v, attention among channels over the pooled
positions (``num_heads`` heads; 1 in the paper's ResNets), averaged to one value per channel and
turned into a sigmoid gate. Same layers as the paper's code.

How ours differs: the paper pools with a fixed 7x7 window (stride 7), which fails on maps smaller than
7x7; ours averages adaptively into ceil(H / 7) x ceil(W / 7) cells, the same at multiples of 7 and
defined at any size. Channels not divisible by 4 give the last group the remainder; heads that do not
divide the channels are reduced to the largest common divisor (``effective_heads``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import at_least
from suite.registry import MODULES

GROUP_KERNELS = (3, 5, 7, 9)


class SynergisticAttention(nn.Module):
    """Multi-scale row/column gates, then a channel gate from channel self-attention on pooled cells."""

    def __init__(self, channels: int, heads: int, window: int):
        super().__init__()
        base = channels // 4
        self.splits = [base, base, base, channels - 3 * base] if base else [channels]
        self.strip_convs = nn.ModuleList(
            nn.Conv1d(width, width, k, padding=k // 2, groups=width)
            for width, k in zip(self.splits, GROUP_KERNELS)
        )
        groups = math.gcd(4, channels)
        self.norm_h, self.norm_w = nn.GroupNorm(groups, channels), nn.GroupNorm(groups, channels)
        self.norm = nn.GroupNorm(1, channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1, groups=channels, bias=False)  # depthwise q, k, v
        self.heads, self.window = heads, window

    def strip_gate(self, strips: torch.Tensor, norm: nn.GroupNorm) -> torch.Tensor:
        parts = strips.split(self.splits, dim=1)
        return torch.sigmoid(norm(torch.cat([conv(p) for conv, p in zip(self.strip_convs, parts)], dim=1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = x.shape
        x = x * self.strip_gate(x.mean(dim=3), self.norm_h)[..., None] * self.strip_gate(x.mean(dim=2), self.norm_w)[:, :, None]
        cells = (math.ceil(height / self.window), math.ceil(width / self.window))
        pooled = self.norm(F.adaptive_avg_pool2d(x, cells))
        q, k, v = self.qkv(pooled).unflatten(1, (channels, 3)).unbind(dim=2)
        q, k, v = (t.reshape(batch, self.heads, channels // self.heads, -1) for t in (q, k, v))
        scale = (channels // self.heads) ** -0.5
        attention = (q @ k.transpose(-2, -1) * scale).softmax(dim=-1)  # among the channels of a head
        gate = torch.sigmoid((attention @ v).mean(dim=-1).reshape(batch, channels, 1, 1))
        return x * gate


@MODULES.register(
    "scsa",
    kind="attention",
    paper="SCSA: Exploring the Synergistic Effects Between Spatial and Channel Attention",
    arxiv="2407.05128",
)
def scsa(channels: int, num_heads: int = 1, window_size: int = 7) -> nn.Module:
    at_least("scsa", "num_heads", num_heads, 1)
    at_least("scsa", "window_size", window_size, 1)
    heads = math.gcd(num_heads, channels)
    return with_hparams(
        SynergisticAttention(channels, heads, window_size),
        num_heads=num_heads,
        effective_heads=heads,
        window_size=window_size,
    )
