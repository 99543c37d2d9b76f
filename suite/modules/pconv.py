"""Partial convolution block, PConv / FasterNet (kind: conv).

Paper: Chen et al., "Run, Don't Walk: Chasing Higher FLOPS for Faster Neural Networks",
arXiv:2303.03667 (FasterNet). A partial convolution applies a 3x3 conv to only the first
``channels / n_div`` channels (1/4 in the paper) and passes the rest through; in a FasterNet block it is
followed by a pointwise MLP (1x1 conv to ``mlp_ratio`` x the width, BN, ReLU, 1x1 conv back) and the
block's input is added. Wraps ``timm.models.fasternet.MLPBlock``. Replaces a double 3x3 conv+BN+ReLU
block (U-Net's) with ``depth`` FasterNet blocks at out channels.

How ours differs: a FasterNet block keeps its width and resolution; where the replaced block changes
channels or downsamples, a conv + BN in front does that (1x1, or 3x3 with the stride; FasterNet's
stage transitions use a 2x2 stride-2 conv + BN, which would floor odd maps instead of ceil). The partial
width needs out_channels >= n_div.
"""

from __future__ import annotations

from timm.layers import ConvNormAct
from timm.models.fasternet import MLPBlock
from torch import nn

from suite.errors import SuiteError
from suite.modules._builder import with_hparams
from suite.modules._checks import at_least, positive
from suite.registry import MODULES


@MODULES.register(
    "pconv",
    kind="conv",
    paper="Run, Don't Walk: Chasing Higher FLOPS for Faster Neural Networks",
    arxiv="2303.03667",
    width_hparams=("mlp_channels",),
)
def pconv(
    in_channels: int, out_channels: int, stride: int = 1, n_div: int = 4, mlp_ratio: float = 2.0, depth: int = 1
) -> nn.Module:
    at_least("pconv", "n_div", n_div, 1)
    positive("pconv", "mlp_ratio", mlp_ratio)
    at_least("pconv", "depth", depth, 1)
    if out_channels < n_div:
        raise SuiteError(f"pconv: out_channels ({out_channels}) must be at least n_div ({n_div})")
    block = nn.Sequential()
    if in_channels != out_channels or stride != 1:
        kernel = 1 if stride == 1 else 3
        block.add_module("transition", ConvNormAct(in_channels, out_channels, kernel, stride=stride, apply_act=False))
    for index in range(depth):
        block.add_module(
            f"block{index + 1}",
            MLPBlock(out_channels, n_div=n_div, mlp_ratio=mlp_ratio, drop_path=0.0, layer_scale_init_value=0.0),
        )
    mlp_channels = int(out_channels * mlp_ratio)
    return with_hparams(block, n_div=n_div, mlp_ratio=mlp_ratio, depth=depth, mlp_channels=mlp_channels)
