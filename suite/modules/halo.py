"""Halo attention, blocked local self-attention (kind: attention).

Paper: Vaswani et al., "Scaling Local Self-Attention for Parameter Efficient Visual Backbones",
arXiv:2103.12731 (HaloNets). Wraps ``timm.layers.HaloAttn``: the map is cut into ``block_size`` x
``block_size`` query blocks, each attending to its block plus a ``halo_size`` border of neighbours,
with relative position logits; 8 heads, block 8 and halo 3 as in the paper's HaloNet (where ``dim_head``
is 16; timm derives it from the width).

How ours differs: the paper's layer replaces a ResNet block's 3x3 conv; here it is an attention module
with channels in = out, so in mode ``after`` it transforms the features (no gate of its own) and in mode
``residual`` it adds to them. timm needs H and W to be multiples of ``block_size``; ours zero-pads the
bottom and right up to the next multiple and crops the result, so any map works (the padded positions
are keys like timm's zero halo). Heads that do not divide the channels are reduced to the largest
common divisor (``effective_heads``).
"""

from __future__ import annotations

import math

import torch
from timm.layers.halo_attn import HaloAttn
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import at_least
from suite.modules._resample import pad_to_multiple
from suite.registry import MODULES


class PaddedHaloAttn(HaloAttn):
    """timm's HaloAttn on the map zero-padded to whole blocks, cropped back to H x W."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        return super().forward(pad_to_multiple(x, self.block_size))[..., :height, :width]


@MODULES.register(
    "halo",
    kind="attention",
    paper="Scaling Local Self-Attention for Parameter Efficient Visual Backbones",
    arxiv="2103.12731",
)
def halo(channels: int, num_heads: int = 8, block_size: int = 8, halo_size: int = 3) -> nn.Module:
    at_least("halo", "num_heads", num_heads, 1)
    at_least("halo", "block_size", block_size, 1)
    at_least("halo", "halo_size", halo_size, 0)
    heads = math.gcd(num_heads, channels)
    module = PaddedHaloAttn(channels, channels, num_heads=heads, block_size=block_size, halo_size=halo_size)
    return with_hparams(
        module, num_heads=num_heads, effective_heads=heads, block_size=block_size, halo_size=halo_size
    )
