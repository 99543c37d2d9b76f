"""Bilinear attentional transform, BAT (kind: attention).

Paper: Chi et al., "Non-Local Neural Networks With Grouped Bilinear Attentional Transforms",
CVPR 2020, pp. 11804-11813 (no arXiv version). Wraps ``timm.layers.BatNonLocalAttn``: a 1x1 conv +
BN + ReLU reduces the channels (``rd_ratio`` 0.25, rounded to a multiple of 8), the map is cut into
``block_size`` x ``block_size`` blocks, and per channel group a row and a column transform, predicted
from max-pooled strips and normalised, mix the positions inside each block (a bilinear product
P X Q); a 1x1 conv + BN + ReLU restores the channels, dropout follows, and the input is added.

How ours differs: timm needs H and W to be multiples of ``block_size``; ours zero-pads the bottom and
right up to the next multiple and crops the result, so any map works (the padding enters the block
transforms and the BatchNorm statistics). The block already adds its input, so ``:residual`` mode adds
it twice. Dropout defaults to timm's 0.2.
"""

from __future__ import annotations

import torch
from timm.layers import BatNonLocalAttn, make_divisible
from torch import nn

from suite.errors import SuiteError
from suite.modules._builder import with_hparams
from suite.modules._checks import at_least, positive
from suite.modules._resample import pad_to_multiple
from suite.registry import MODULES


class PaddedBat(BatNonLocalAttn):
    """timm's BatNonLocalAttn on the map zero-padded to whole blocks, cropped back to H x W."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        return super().forward(pad_to_multiple(x, self.ba.block_size))[..., :height, :width]


@MODULES.register(
    "bat",
    kind="attention",
    paper="Non-Local Neural Networks With Grouped Bilinear Attentional Transforms",
    arxiv=None,
    reference="CVPR 2020, pp. 11804-11813",
    width_hparams=("rd_channels",),
)
def bat(
    channels: int, block_size: int = 7, groups: int = 2, rd_ratio: float = 1 / 4, drop_rate: float = 0.2
) -> nn.Module:
    at_least("bat", "block_size", block_size, 1)
    at_least("bat", "groups", groups, 1)
    positive("bat", "rd_ratio", rd_ratio)
    if not 0.0 <= drop_rate < 1.0:
        raise SuiteError(f"bat: drop_rate must be in [0, 1), got {drop_rate!r}")
    rd_channels = make_divisible(channels * rd_ratio, 8 * groups, round_limit=0.0)
    module = PaddedBat(channels, block_size=block_size, groups=groups, rd_channels=rd_channels, drop_rate=drop_rate)
    return with_hparams(
        module, block_size=block_size, groups=groups, rd_ratio=rd_ratio, rd_channels=rd_channels, drop_rate=drop_rate
    )
