"""Dual attention, DANet (kind: attention).

Paper: Fu et al., "Dual Attention Network for Scene Segmentation", arXiv:1809.02983. Two
self-attention modules in parallel: position attention (queries and keys from 1x1 convs to
``channels * rd_ratio`` (C/8 in the paper), values at full width, every position attends to all H*W
positions) and channel attention (every channel attends to all channels through the Gram matrix of the
maps, with the paper's max-minus-energy trick, no parameters besides its scale). Each output is scaled by
a learned gamma that starts at 0 and added to the input, as in the paper.

How ours differs: DANet's head wraps each module in 3x3 convs and sums their outputs; ours is the two
attention modules alone, combined as x + gamma_p * P(x) + gamma_c * C(x) (each module's own residual
sum, with the input counted once), so the module starts as the identity. The position attention
matrix costs (H*W)^2 memory per image, so maps above 128x128 positions raise an error instead of
exhausting memory mid-run.
"""

from __future__ import annotations

import torch
from timm.layers import make_divisible
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import max_positions, positive
from suite.registry import MODULES

MAX_POSITIONS = 128 * 128  # (H*W)^2 fp32 attention = 1 GiB per image at this size


class DualAttention(nn.Module):
    """x -> x + gamma_p * position_attention(x) + gamma_c * channel_attention(x)."""

    def __init__(self, channels: int, rd_channels: int):
        super().__init__()
        self.query = nn.Conv2d(channels, rd_channels, 1)
        self.key = nn.Conv2d(channels, rd_channels, 1)
        self.value = nn.Conv2d(channels, channels, 1)
        self.gamma_position = nn.Parameter(torch.zeros(1))
        self.gamma_channel = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        max_positions("danet", x, MAX_POSITIONS, "its position attention matrix is (H*W)^2 per image")
        flat = x.flatten(2)  # (B, C, N)
        query, key = self.query(x).flatten(2), self.key(x).flatten(2)
        position_weights = torch.einsum("bcn,bcm->bnm", query, key).softmax(dim=-1)  # (B, N, N)
        position = torch.einsum("bcm,bnm->bcn", self.value(x).flatten(2), position_weights)
        energy = torch.einsum("bcn,bdn->bcd", flat, flat)  # (B, C, C)
        channel_weights = (energy.amax(dim=-1, keepdim=True) - energy).softmax(dim=-1)
        channel = torch.einsum("bcd,bdn->bcn", channel_weights, flat)
        out = flat + self.gamma_position * position + self.gamma_channel * channel
        return out.view_as(x)


@MODULES.register(
    "danet",
    kind="attention",
    paper="Dual Attention Network for Scene Segmentation",
    arxiv="1809.02983",
    width_hparams=("rd_channels",),
)
def danet(channels: int, rd_ratio: float = 1 / 8) -> nn.Module:
    positive("danet", "rd_ratio", rd_ratio)
    rd_channels = make_divisible(channels * rd_ratio, 8, round_limit=0.0)
    return with_hparams(DualAttention(channels, rd_channels), rd_ratio=rd_ratio, rd_channels=rd_channels)
