"""Squeeze-and-Excitation (kind: attention).

Paper: Hu et al., "Squeeze-and-Excitation Networks", arXiv:1709.01507.
Wraps ``timm.layers.SEModule``. The hidden width is ``channels * rd_ratio`` rounded to a multiple of
``rd_divisor`` (timm's convention), so it scales with the channels at the point as SENet's r=16 did.
"""

from __future__ import annotations

from timm.layers import SEModule, make_divisible
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import at_least, positive
from suite.registry import MODULES


@MODULES.register(
    "se",
    kind="attention",
    paper="Squeeze-and-Excitation Networks",
    arxiv="1709.01507",
    width_hparams=("rd_channels",),
)
def se(channels: int, rd_ratio: float = 1 / 16, rd_divisor: int = 8) -> nn.Module:
    positive("se", "rd_ratio", rd_ratio)
    at_least("se", "rd_divisor", rd_divisor, 1)
    rd_channels = make_divisible(channels * rd_ratio, rd_divisor, round_limit=0.0)
    return with_hparams(
        SEModule(channels, rd_channels=rd_channels),
        rd_ratio=rd_ratio,
        rd_divisor=rd_divisor,
        rd_channels=rd_channels,
    )
