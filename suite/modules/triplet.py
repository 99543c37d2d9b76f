"""Triplet attention (kind: attention).

Paper: Misra, Nalamada, Arasanipalai and Hou, "Rotate to Attend: Convolutional Triplet Attention
Module", arXiv:2010.03045. Three branches, each looking at the tensor with a different axis as the
"channels": (C, H, W), (H, C, W) rotated and (W, H, C) rotated. In each, Z-pool (max and mean over that
axis) gives a two-plane map, a 7x7 conv + BN a one-plane logit and a sigmoid gate; the three gated
tensors are rotated back and averaged. Cross-dimension interaction at 3 * (2 * 49) conv weights plus
BatchNorm per module, no channel reduction. Same layers as the paper's code (convs without bias, BN
without ReLU).
"""

from __future__ import annotations

import torch
from timm.layers import ConvNormAct
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import odd_kernel
from suite.registry import MODULES


class AttentionGate(nn.Module):
    """x -> x * sigmoid(BN(conv(cat(max over dim 1, mean over dim 1))))."""

    def __init__(self, kernel_size: int):
        super().__init__()
        self.conv = ConvNormAct(2, 1, kernel_size, apply_act=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = torch.cat([x.amax(dim=1, keepdim=True), x.mean(dim=1, keepdim=True)], dim=1)
        return x * torch.sigmoid(self.conv(pooled))


class TripletAttention(nn.Module):
    """Average of three gated views: (C, H, W), (H, C, W) and (W, H, C) as channels x map."""

    def __init__(self, kernel_size: int):
        super().__init__()
        self.height_channel = AttentionGate(kernel_size)  # H plays the channels: gate over (C, W)
        self.width_channel = AttentionGate(kernel_size)  # W plays the channels: gate over (H, C)
        self.spatial = AttentionGate(kernel_size)  # C plays the channels: gate over (H, W)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height_channel = self.height_channel(x.transpose(1, 2)).transpose(1, 2)
        width_channel = self.width_channel(x.transpose(1, 3)).transpose(1, 3)
        return (height_channel + width_channel + self.spatial(x)) / 3.0


@MODULES.register(
    "triplet",
    kind="attention",
    paper="Rotate to Attend: Convolutional Triplet Attention Module",
    arxiv="2010.03045",
)
def triplet(channels: int, kernel_size: int = 7) -> nn.Module:
    odd_kernel("triplet", "kernel_size", kernel_size)
    return with_hparams(TripletAttention(kernel_size), kernel_size=kernel_size)
