"""Non-local block, NL (kind: attention).

Paper: Wang et al., "Non-local Neural Networks", arXiv:1711.07971. Wraps ``timm.layers.NonLocalAttn``:
embedded-Gaussian self-attention over all H*W positions with theta/phi/g 1x1 embeddings of
``channels * rd_ratio`` channels (the paper's C/2, rounded to a multiple of 8), an output 1x1 conv and
a BatchNorm initialised to zero, so the block starts as the identity.

How ours differs: timm scales the attention logits by 1/sqrt(channels) (the paper does not scale).
The block already adds its input (y = x + BN(W z)), so ``:residual`` mode adds the input twice.
The attention matrix costs (H*W)^2 memory per image, so maps above 128x128 positions raise an error
instead of exhausting memory mid-run.
"""

from __future__ import annotations

import torch
from timm.layers import NonLocalAttn, make_divisible
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import max_positions, positive
from suite.registry import MODULES

MAX_POSITIONS = 128 * 128  # (H*W)^2 fp32 attention = 1 GiB per image at this size


class _BoundedNonLocal(NonLocalAttn):
    """timm's NonLocalAttn that refuses maps whose attention matrix would not fit in memory."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        max_positions("nl", x, MAX_POSITIONS, "its attention matrix is (H*W)^2 per image")
        return super().forward(x)


@MODULES.register(
    "nl",
    kind="attention",
    paper="Non-local Neural Networks",
    arxiv="1711.07971",
    width_hparams=("rd_channels",),
)
def nl(channels: int, rd_ratio: float = 1 / 2) -> nn.Module:
    positive("nl", "rd_ratio", rd_ratio)
    rd_channels = make_divisible(channels * rd_ratio, 8, round_limit=0.0)
    return with_hparams(
        _BoundedNonLocal(channels, rd_channels=rd_channels), rd_ratio=rd_ratio, rd_channels=rd_channels
    )
