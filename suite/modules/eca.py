"""Efficient Channel Attention, ECA, and timm's two variants ecam and ceca (kind: attention).

Paper: Wang et al., "ECA-Net: Efficient Channel Attention for Deep Convolutional Neural Networks",
arXiv:1910.03151. Wraps ``timm.layers.EcaModule``: global average pooling, a 1D conv across channels
and a sigmoid gate. The 1D kernel size follows the paper's formula k = |log2(C)/gamma + b/gamma|
truncated and made odd (t+1 when even), so it grows with the channels at the point (k=3 at 64 channels, 5 at 512).
As in timm, k is at least 3 (the paper allows k=1 below 8 channels).

``ecam`` and ``ceca`` are timm's variants, exposed by ``timm.layers.get_attn``: ``ecam`` puts a small
MLP (1x1 conv1d to ``channels * rd_ratio`` maps rounded to a multiple of 8, ReLU) before the 1D conv;
``ceca`` pads the 1D conv circularly across channels. Neither is in the paper.
"""

from __future__ import annotations

from timm.layers import CecaModule, EcaModule, make_divisible
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


@MODULES.register(
    "ecam",
    kind="attention",
    paper="ECA-Net: Efficient Channel Attention for Deep Convolutional Neural Networks",
    arxiv="1910.03151",
    width_hparams=("kernel_size", "rd_channels"),
)
def ecam(channels: int, gamma: float = 2.0, beta: float = 1.0, rd_ratio: float = 1 / 8) -> nn.Module:
    """timm's ECA with an MLP (``use_mlp``): a 1x1 conv1d to ``rd_channels`` maps, ReLU, then the
    adaptive-size conv1d back to one; an experiment of timm's, not in the paper."""
    positive("ecam", "gamma", gamma)
    positive("ecam", "rd_ratio", rd_ratio)
    rd_channels = make_divisible(channels * rd_ratio, 8, round_limit=0.0)
    module = EcaModule(channels, gamma=gamma, beta=beta, use_mlp=True, rd_channels=rd_channels)
    return with_hparams(
        module, gamma=gamma, beta=beta, rd_ratio=rd_ratio, rd_channels=rd_channels, kernel_size=module.conv2.kernel_size[0]
    )


@MODULES.register(
    "ceca",
    kind="attention",
    paper="ECA-Net: Efficient Channel Attention for Deep Convolutional Neural Networks",
    arxiv="1910.03151",
    width_hparams=("kernel_size",),
)
def ceca(channels: int, gamma: float = 2.0, beta: float = 1.0) -> nn.Module:
    """timm's circular ECA (``CecaModule``): the conv1d across channels pads circularly, so the first
    and last channels are neighbours; timm's variant, not the paper's zero padding."""
    positive("ceca", "gamma", gamma)
    module = CecaModule(channels, gamma=gamma, beta=beta)
    return with_hparams(module, gamma=gamma, beta=beta, kernel_size=module.conv.kernel_size[0])
