"""Attentional Feature Fusion, AFF, and its iterative form iAFF (kind: fusion).

Paper: Dai et al., "Attentional Feature Fusion", arXiv:2009.14082 (WACV 2021). The skip X and the
decoder features Y are summed and passed to a multi-scale channel attention module (MS-CAM: a local
branch of pointwise conv + BN + ReLU + pointwise conv + BN at every position, plus the same on the
globally pooled features); its sigmoid weight M chooses between them per channel and position:
Z = M * X + (1 - M) * Y. Z takes the skip's place before the U-Net concatenates it with the decoder.
The MS-CAM bottleneck is channels * rd_ratio (the paper's r=4), rounded to a multiple of 8, minimum 8;
convs and BN from ``timm.layers.ConvNormAct``.

How ours differs: the paper's reference code doubles Z (2 M X + 2 (1 - M) Y); we keep the paper's
equation. A decoder at another resolution is resized to the skip's. The global branch has BatchNorm
over 1x1 maps, so it needs training batches of at least 2 images.

``iaff`` is the paper's iterative AFF: the plain sum that feeds MS-CAM is itself replaced by an AFF
(Z1 = M1 * X + (1 - M1) * Y with M1 from the sum), and a second MS-CAM on Z1 gives the final weight:
Z = M2 * X + (1 - M2) * Y. The two MS-CAMs have their own weights (the paper's code reuses the first
global branch in the second stage; the paper's figure has two).
"""

from __future__ import annotations

import torch
from timm.layers import ConvNormAct, make_divisible
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import positive
from suite.modules._fusion import match_size
from suite.registry import MODULES


def _bottleneck(channels: int, rd_channels: int) -> nn.Sequential:
    """Pointwise conv + BN + ReLU down to ``rd_channels``, pointwise conv + BN back up."""
    return nn.Sequential(
        ConvNormAct(channels, rd_channels, 1),
        ConvNormAct(rd_channels, channels, 1, apply_act=False),
    )


class MultiScaleChannelAttention(nn.Module):
    """MS-CAM: x -> sigmoid(local(x) + global(x)), a weight per channel and position."""

    def __init__(self, channels: int, rd_channels: int):
        super().__init__()
        self.local_att = _bottleneck(channels, rd_channels)
        self.global_att = nn.Sequential(nn.AdaptiveAvgPool2d(1), _bottleneck(channels, rd_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.local_att(x) + self.global_att(x))


class AttentionalFeatureFusion(nn.Module):
    """(decoder, skip) -> M * skip + (1 - M) * decoder, M = MS-CAM(skip + decoder); ``iterations=2``: the
    sum inside is itself such a fusion (iAFF)."""

    def __init__(self, channels: int, rd_channels: int, iterations: int = 1):
        super().__init__()
        self.weights = nn.ModuleList(MultiScaleChannelAttention(channels, rd_channels) for _ in range(iterations))

    def forward(self, decoder: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        decoder = match_size(decoder, skip)
        fused = skip + decoder
        for weight in self.weights:
            mix = weight(fused)
            fused = mix * skip + (1 - mix) * decoder
        return fused


@MODULES.register(
    "aff",
    kind="fusion",
    paper="Attentional Feature Fusion",
    arxiv="2009.14082",
    width_hparams=("rd_channels",),
)
def aff(channels: int, rd_ratio: float = 1 / 4) -> nn.Module:
    positive("aff", "rd_ratio", rd_ratio)
    rd_channels = make_divisible(channels * rd_ratio, 8, round_limit=0.0)
    return with_hparams(
        AttentionalFeatureFusion(channels, rd_channels), rd_ratio=rd_ratio, rd_channels=rd_channels
    )


@MODULES.register(
    "iaff",
    kind="fusion",
    paper="Attentional Feature Fusion",
    arxiv="2009.14082",
    width_hparams=("rd_channels",),
)
def iaff(channels: int, rd_ratio: float = 1 / 4) -> nn.Module:
    positive("iaff", "rd_ratio", rd_ratio)
    rd_channels = make_divisible(channels * rd_ratio, 8, round_limit=0.0)
    return with_hparams(
        AttentionalFeatureFusion(channels, rd_channels, iterations=2), rd_ratio=rd_ratio, rd_channels=rd_channels
    )
