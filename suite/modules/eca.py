"""Efficient Channel Attention, ECA (kind: attention).

Paper: Wang et al., "ECA-Net: Efficient Channel Attention for Deep Convolutional Neural Networks",
arXiv:1910.03151. Wraps ``timm.layers.EcaModule``: global average pooling, a 1D conv across channels
and a sigmoid gate. The 1D kernel size follows the paper's formula k = |log2(C)/gamma + b/gamma|
truncated and made odd (t+1 when even), so it grows with the channels at the point (k=3 at 64 channels, 5 at 512).
As in timm, k is at least 3 (the paper allows k=1 below 8 channels).
"""

from __future__ import annotations

from timm.layers import EcaModule
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import positive
from suite.registry import MODULES


@MODULES.register(
    "eca",
    kind="attention",
    paper="ECA-Net: Efficient Channel Attention for Deep Convolutional Neural Networks",
    arxiv="1910.03151",
    width_hparams=("kernel_size",),
)
def eca(channels: int, gamma: float = 2.0, beta: float = 1.0) -> nn.Module:
    positive("eca", "gamma", gamma)
    module = EcaModule(channels, gamma=gamma, beta=beta)
    return with_hparams(module, gamma=gamma, beta=beta, kernel_size=module.conv.kernel_size[0])
