"""RepVGG double conv block (kind: conv).

Paper: Ding et al., "RepVGG: Making VGG-style ConvNets Great Again", arXiv:2101.03697. Each RepVGG
block trains as three parallel branches, a 3x3 conv + BN, a 1x1 conv + BN and (where the shape allows)
an identity BN, summed and passed through ReLU; after training they fold into one 3x3 conv
(``reparameterize()`` on each block), so inference is a plain VGG-style stack. Wraps
``timm.models.byobnet.RepVggBlock``. Replaces a double 3x3 conv+BN+ReLU block (U-Net's) with two RepVGG
blocks; the first carries the stride and maps in -> out channels (no identity branch there). Trained
and compared in the multi-branch form, as the paper trains it.
"""

from __future__ import annotations

from collections import OrderedDict

from timm.models.byobnet import RepVggBlock
from torch import nn

from suite.modules._builder import with_hparams
from suite.registry import MODULES


@MODULES.register(
    "repvgg",
    kind="conv",
    paper="RepVGG: Making VGG-style ConvNets Great Again",
    arxiv="2101.03697",
)
def repvgg(in_channels: int, out_channels: int, stride: int = 1) -> nn.Module:
    block = nn.Sequential(
        OrderedDict(
            rep1=RepVggBlock(in_channels, out_channels, stride=stride),
            rep2=RepVggBlock(out_channels, out_channels),
        )
    )
    return with_hparams(block)
