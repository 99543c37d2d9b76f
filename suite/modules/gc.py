"""Global Context block, GC (kind: attention).

Paper: Cao et al., "GCNet: Non-local Networks Meet Squeeze-Excitation Networks and Beyond",
arXiv:1904.11492. Wraps ``timm.layers.GlobalContext``: softmax attention pooling to one context
vector, a bottleneck transform (1x1 conv, LayerNorm, ReLU, 1x1 conv) and fusion into every position.
Defaults follow the paper's GC block: fusion by addition (timm's ``gc`` default is scaling) with
bottleneck ratio r=16. The bottleneck width is rounded to a multiple of 8 with a minimum of 8, since a
LayerNorm over one or two channels would make the transform (nearly) constant at small widths.
With ``fusion=add`` the last conv starts at zero, so the block starts as the identity. The default is
timm's ``gca`` (``get_attn("gca")``) at r=16 instead of timm's 8; ``fusion=scale`` is timm's ``gc``.
"""

from __future__ import annotations

from timm.layers import GlobalContext, make_divisible
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import one_of, positive
from suite.registry import MODULES

FUSIONS = ("add", "scale")


@MODULES.register(
    "gc",
    kind="attention",
    paper="GCNet: Non-local Networks Meet Squeeze-Excitation Networks and Beyond",
    arxiv="1904.11492",
    width_hparams=("rd_channels",),
)
def gc(channels: int, fusion: str = "add", rd_ratio: float = 1 / 16) -> nn.Module:
    one_of("gc", "fusion", fusion, FUSIONS)
    positive("gc", "rd_ratio", rd_ratio)
    rd_channels = make_divisible(channels * rd_ratio, 8, round_limit=0.0)
    module = GlobalContext(
        channels, fuse_add=fusion == "add", fuse_scale=fusion == "scale", rd_channels=rd_channels
    )
    return with_hparams(module, fusion=fusion, rd_ratio=rd_ratio, rd_channels=rd_channels)
