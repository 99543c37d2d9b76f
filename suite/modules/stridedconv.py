"""Strided convolution downsampling (kind: down).

Paper: Springenberg et al., "Striving for Simplicity: The All Convolutional Net", arXiv:1412.6806.
The pooling layer is replaced by a learned kxk convolution with the pooling's stride; here a 3x3
conv + BN + ReLU (``timm.layers.ConvNormAct``), padded so that the output is ceil(H / stride) x
ceil(W / stride), mapping in -> out channels. The paper's nets have no BatchNorm; ours adds it as the
U-Net's other convolutions have it.
"""

from __future__ import annotations

from timm.layers import ConvNormAct
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import odd_kernel
from suite.modules._resample import check_factor
from suite.registry import MODULES


@MODULES.register(
    "stridedconv",
    kind="down",
    paper="Striving for Simplicity: The All Convolutional Net",
    arxiv="1412.6806",
)
def stridedconv(in_channels: int, out_channels: int, stride: int = 2, kernel_size: int = 3) -> nn.Module:
    check_factor("stridedconv", "stride", stride)
    odd_kernel("stridedconv", "kernel_size", kernel_size)
    return with_hparams(ConvNormAct(in_channels, out_channels, kernel_size, stride=stride), kernel_size=kernel_size)
