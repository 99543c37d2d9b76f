"""Anti-aliased max-pooling, MaxBlurPool (kind: down).

Paper: Zhang, "Making Convolutional Networks Shift-Invariant Again", arXiv:1904.11486. Max-pooling is
split into a dense max (2x2 window, stride 1) and a blurred subsampling: a fixed binomial low-pass
filter (``filt_size`` 3: [1, 2, 1] / 4 per axis) applied with the stride, which wraps
``timm.layers.BlurPool2d``. No parameters where in and out channels match, as for the max-pool it
replaces; otherwise a 1x1 conv + BN + ReLU follows.

How ours differs: the dense max pads one row and column at the bottom and right (replicating the
border), so it keeps H x W and the output is ceil(H / stride) x ceil(W / stride) also for odd maps;
the blur pads by replication, where the paper reflects, so 1-pixel maps work too. Stride 2 only (the
symmetric padding of odd filters gives ceil(H / 2) there), which is every U-Net down point.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from timm.layers import BlurPool2d
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import one_of
from suite.modules._resample import projection
from suite.registry import MODULES

FILTER_SIZES = (3, 5, 7)  # odd: with stride 2 the output is ceil(H / 2)


class MaxBlurPool(nn.Module):
    """Dense 2x2 max (size kept), then blur + subsample by ``stride``, then the channel projection."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, filt_size: int):
        super().__init__()
        self.blur = BlurPool2d(in_channels, filt_size=filt_size, stride=stride, pad_mode="replicate")
        self.project = projection(in_channels, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dense_max = F.max_pool2d(F.pad(x, (0, 1, 0, 1), mode="replicate"), kernel_size=2, stride=1)
        return self.project(self.blur(dense_max))


@MODULES.register(
    "blurpool",
    kind="down",
    paper="Making Convolutional Networks Shift-Invariant Again",
    arxiv="1904.11486",
)
def blurpool(in_channels: int, out_channels: int, stride: int = 2, filt_size: int = 3) -> nn.Module:
    one_of("blurpool", "stride", stride, (2,))
    one_of("blurpool", "filt_size", filt_size, FILTER_SIZES)
    return with_hparams(MaxBlurPool(in_channels, out_channels, stride, filt_size), filt_size=filt_size)
