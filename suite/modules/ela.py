"""Efficient Local Attention, ELA (kind: attention).

Paper: Xu and Wan, "ELA: Efficient Local Attention for Deep Convolutional Neural Networks",
arXiv:2403.01123. Wraps ``timm.layers.coord_attn.EfficientLocalAttn``: like coordinate attention it
pools along H and along W, but keeps all channels (no reduction) and runs a depthwise 1D conv
(kernel 7), GroupNorm and SiLU on each strip before its sigmoid gate; the two gates multiply the map.
The paper's ELA-S/T/B/L variants differ in kernel size and GroupNorm groups; ours is timm's, with one
GroupNorm group (``GroupNorm1``), and takes the kernel size as an argument.
"""

from __future__ import annotations

from timm.layers.coord_attn import EfficientLocalAttn
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import odd_kernel
from suite.registry import MODULES


@MODULES.register(
    "ela",
    kind="attention",
    paper="ELA: Efficient Local Attention for Deep Convolutional Neural Networks",
    arxiv="2403.01123",
)
def ela(channels: int, kernel_size: int = 7) -> nn.Module:
    odd_kernel("ela", "kernel_size", kernel_size)
    return with_hparams(EfficientLocalAttn(channels, kernel_size=kernel_size), kernel_size=kernel_size)
