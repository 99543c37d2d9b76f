"""Polarized self-attention, PSA (kind: attention).

Paper: Liu et al., "Polarized Self-Attention: Towards High-quality Pixel-wise Regression",
arXiv:2107.00782. Two branches that keep high internal resolution and end in a sigmoid:
the channel branch collapses the positions with a softmax-weighted sum of ``channels / 2`` value maps
(the weights from a 1x1 conv to one map), restores the channels with a 1x1 conv, LayerNorm and a
sigmoid: a gate per channel; the spatial branch collapses the channels with a softmax over the globally
pooled ``channels / 2`` queries applied to ``channels / 2`` value maps: a gate per position. The
parallel layout (default, the paper's PSA_p) sums the two gated maps; ``layout=sequential`` (PSA_s)
applies the spatial gate after the channel gate. Same layers as the paper's code.
"""

from __future__ import annotations

import torch
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import one_of
from suite.registry import MODULES

LAYOUTS = ("parallel", "sequential")


class PolarizedSelfAttention(nn.Module):
    """Channel-only and spatial-only self-attention gates, in parallel (sum) or in sequence."""

    def __init__(self, channels: int, layout: str):
        super().__init__()
        half = max(channels // 2, 1)
        self.layout = layout
        self.channel_query = nn.Conv2d(channels, 1, 1)
        self.channel_value = nn.Conv2d(channels, half, 1)
        self.channel_up = nn.Conv2d(half, channels, 1)
        self.channel_norm = nn.LayerNorm(channels)
        self.spatial_query = nn.Conv2d(channels, half, 1)
        self.spatial_value = nn.Conv2d(channels, half, 1)

    def channel_gate(self, x: torch.Tensor) -> torch.Tensor:
        weights = self.channel_query(x).flatten(2).softmax(dim=-1)  # (B, 1, HW)
        summary = torch.einsum("bcn,bn->bc", self.channel_value(x).flatten(2), weights[:, 0])
        restored = self.channel_up(summary[..., None, None]).flatten(1)  # (B, C)
        return torch.sigmoid(self.channel_norm(restored))[..., None, None]

    def spatial_gate(self, x: torch.Tensor) -> torch.Tensor:
        query = self.spatial_query(x).mean(dim=(2, 3)).softmax(dim=-1)  # (B, C/2)
        logits = torch.einsum("bc,bchw->bhw", query, self.spatial_value(x))
        return torch.sigmoid(logits)[:, None]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.layout == "parallel":
            return x * self.channel_gate(x) + x * self.spatial_gate(x)
        x = x * self.channel_gate(x)
        return x * self.spatial_gate(x)


@MODULES.register(
    "psa",
    kind="attention",
    paper="Polarized Self-Attention: Towards High-quality Pixel-wise Regression",
    arxiv="2107.00782",
)
def psa(channels: int, layout: str = "parallel") -> nn.Module:
    one_of("psa", "layout", layout, LAYOUTS)
    return with_hparams(PolarizedSelfAttention(channels, layout), layout=layout)
