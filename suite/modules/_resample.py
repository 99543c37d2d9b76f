"""Shared steps of the modules that resample or work in blocks: argument checks, padding to a multiple
(up, down and the blocked attention modules halo and bat), channel projection."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from timm.layers import ConvNormAct
from torch import nn

from suite.modules._checks import at_least


def check_factor(module: str, name: str, value: int) -> None:
    """A resampling factor (``stride`` or ``scale``): a whole number >= 1."""
    at_least(module, name, value, 1)


def pad_to_multiple(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """Zero-pad the bottom and right of ``x`` (NCHW) so that H and W are multiples of ``multiple``;
    ``x`` itself when they already are. Then a 2x split gives ceil(H / 2) x ceil(W / 2)."""
    pad_h, pad_w = -x.shape[-2] % multiple, -x.shape[-1] % multiple
    return F.pad(x, (0, pad_w, 0, pad_h)) if pad_h or pad_w else x


def projection(in_channels: int, out_channels: int) -> nn.Module:
    """1x1 conv + BN + ReLU from ``in_channels`` to ``out_channels``; ``nn.Identity`` when they match
    (a parameter-free resampler stays parameter-free where the channels do not change)."""
    if in_channels == out_channels:
        return nn.Identity()
    return ConvNormAct(in_channels, out_channels, 1)
