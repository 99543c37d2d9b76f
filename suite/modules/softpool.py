"""SoftPool, softmax-weighted pooling (kind: down).

Paper: Stergiou, Poppe and Kalliatakis, "Refining activation downsampling with SoftPool",
arXiv:2101.00440 (ICCV 2021). Each window's output is the sum of its activations weighted by their
softmax, sum(exp(x) * x) / sum(exp(x)): between average pooling (flat activations) and max pooling
(one dominant activation), differentiable everywhere, no parameters. Window = stride, as in the
max-pool it replaces.

How ours differs: computed with two ``F.avg_pool2d`` calls (the paper ships a CUDA kernel), with
exp(x - window max) for numerical stability (the ratio is unchanged); windows overhanging an odd
border are cut off (``ceil_mode``), so the output is ceil(H / stride) x ceil(W / stride). Where in and
out channels differ, a 1x1 conv + BN + ReLU follows.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._resample import check_factor, projection
from suite.registry import MODULES


class SoftPool(nn.Module):
    """(B, in, H, W) -> softmax-weighted mean over stride x stride windows -> projection."""

    def __init__(self, in_channels: int, out_channels: int, stride: int):
        super().__init__()
        self.stride = stride
        self.project = projection(in_channels, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        window = dict(kernel_size=self.stride, stride=self.stride, ceil_mode=True)
        window_max = F.max_pool2d(x, **window).repeat_interleave(self.stride, dim=2)
        window_max = window_max.repeat_interleave(self.stride, dim=3)[..., : x.shape[-2], : x.shape[-1]]
        weights = torch.exp(x - window_max)
        pooled = F.avg_pool2d(weights * x, **window) / F.avg_pool2d(weights, **window)
        return self.project(pooled)


@MODULES.register(
    "softpool",
    kind="down",
    paper="Refining activation downsampling with SoftPool",
    arxiv="2101.00440",
)
def softpool(in_channels: int, out_channels: int, stride: int = 2) -> nn.Module:
    check_factor("softpool", "stride", stride)
    return with_hparams(SoftPool(in_channels, out_channels, stride))
