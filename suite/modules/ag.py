"""Attention gate, AG (kind: fusion).

Paper: Oktay et al., "Attention U-Net: Learning Where to Look for the Pancreas", arXiv:1804.03999.
Additive attention: alpha = sigmoid(psi(ReLU(W_x skip + W_g decoder + b_g)) + b_psi), and the skip
is replaced by ``skip * alpha`` (one coefficient per position) before the U-Net concatenates it with
the decoder features. The intermediate width is the paper's F_int = channels / 2, rounded to a multiple
of 8 with a minimum of 8.

How ours differs: the gating signal arrives at the skip's resolution (the U-Net upsamples the decoder
first), so W_x is a 1x1 conv with stride 1 rather than the paper's strided one; a decoder at another
resolution is resized to the skip's. There is no output 1x1 conv + BN after the gating (the paper's
code has one; its equations do not).
"""

from __future__ import annotations

import torch
from timm.layers import make_divisible
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import positive
from suite.modules._fusion import match_size
from suite.registry import MODULES


class AttentionGate(nn.Module):
    """(decoder, skip) -> skip * alpha, alpha in (0, 1) per position."""

    def __init__(self, channels: int, inter_channels: int):
        super().__init__()
        self.skip_proj = nn.Conv2d(channels, inter_channels, kernel_size=1, bias=False)  # W_x
        self.gate_proj = nn.Conv2d(channels, inter_channels, kernel_size=1, bias=True)  # W_g, b_g
        self.psi = nn.Conv2d(inter_channels, 1, kernel_size=1, bias=True)  # psi, b_psi

    def forward(self, decoder: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        gate = self.gate_proj(match_size(decoder, skip))
        alpha = torch.sigmoid(self.psi(torch.relu(self.skip_proj(skip) + gate)))
        return skip * alpha


@MODULES.register(
    "ag",
    kind="fusion",
    paper="Attention U-Net: Learning Where to Look for the Pancreas",
    arxiv="1804.03999",
    width_hparams=("inter_channels",),
)
def ag(channels: int, inter_ratio: float = 1 / 2) -> nn.Module:
    positive("ag", "inter_ratio", inter_ratio)
    inter_channels = make_divisible(channels * inter_ratio, 8, round_limit=0.0)
    return with_hparams(
        AttentionGate(channels, inter_channels), inter_ratio=inter_ratio, inter_channels=inter_channels
    )
