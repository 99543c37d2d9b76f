"""Split-attention double conv block, ResNeSt (kind: conv).

Paper: Zhang et al., "ResNeSt: Split-Attention Networks", arXiv:2004.08955. A split-attention conv
runs ``radix`` grouped 3x3 conv paths (+ BN + ReLU), pools their sum, predicts a radix-softmax weight
per path and channel from it (two 1x1 convs, hidden ``in_channels * radix * rd_ratio``, minimum 32) and
returns the weighted sum of the paths. Wraps ``timm.layers.SplitAttn`` with BatchNorm (ResNeSt's
setting, radix 2, rd_ratio 1/4, cardinality 1). Replaces a double 3x3 conv+BN+ReLU block (U-Net's) with
two split-attention convs; the first carries the stride and maps in -> out channels.

How ours differs: the radix paths split the input channels, so an input whose channels do not divide
by ``radix`` (1 or 3 at a network's first block) gets a plain 3x3 conv + BN + ReLU as its first conv
(ResNeSt's stem is plain convs too). The attention's BatchNorm over pooled 1x1 maps needs training
batches of at least 2 images.
"""

from __future__ import annotations

from collections import OrderedDict

from timm.layers import ConvNormAct, SplitAttn
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import at_least, positive
from suite.registry import MODULES


@MODULES.register(
    "splat",
    kind="conv",
    paper="ResNeSt: Split-Attention Networks",
    arxiv="2004.08955",
    width_hparams=("attn_channels",),
)
def splat(in_channels: int, out_channels: int, stride: int = 1, radix: int = 2, rd_ratio: float = 1 / 4) -> nn.Module:
    at_least("splat", "radix", radix, 1)
    positive("splat", "rd_ratio", rd_ratio)
    settings = dict(radix=radix, rd_ratio=rd_ratio, norm_layer=nn.BatchNorm2d)
    if in_channels % radix:
        first = ConvNormAct(in_channels, out_channels, 3, stride=stride)
    else:
        first = SplitAttn(in_channels, out_channels, stride=stride, **settings)
    block = nn.Sequential(OrderedDict(splat1=first, splat2=SplitAttn(out_channels, out_channels, **settings)))
    attn_channels = block.splat2.fc1.out_channels
    return with_hparams(block, radix=radix, rd_ratio=rd_ratio, attn_channels=attn_channels)
