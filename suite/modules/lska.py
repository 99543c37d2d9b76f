"""Large separable kernel attention, LSKA (kind: attention).

Paper: Lau, Po and Rehman, "Large Separable Kernel Attention: Rethinking the Large Kernel Attention
Design in CNN", arXiv:2309.01439. VAN's large kernel attention with every 2D depthwise kernel split
into a 1xk and a kx1 one: a local depthwise pair (1x(2d-1), (2d-1)x1), a dilated depthwise pair
(1xceil(k/d), ceil(k/d)x1, dilation d) and a 1x1 conv give the attention map, which multiplies the
input (no sigmoid). ``kernel_size`` is the effective kernel k; the local and dilated sizes per k are
the paper's (k=23: 5 and 7 with dilation 3). Same layers as the paper's code; the surrounding VAN block
(1x1 conv, GELU, ..., 1x1 conv, shortcut) is not part of the module.
"""

from __future__ import annotations

import torch
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import one_of
from suite.registry import MODULES

# effective kernel -> (local kernel, dilated kernel, dilation), as in the paper's code.
KERNELS = {7: (3, 3, 2), 11: (3, 5, 2), 23: (5, 7, 3), 35: (5, 11, 3), 41: (5, 13, 3), 53: (5, 17, 3)}


def _strip_pair(channels: int, kernel: int, dilation: int = 1) -> list[nn.Conv2d]:
    pad = dilation * (kernel // 2)
    return [
        nn.Conv2d(channels, channels, (1, kernel), padding=(0, pad), dilation=dilation, groups=channels),
        nn.Conv2d(channels, channels, (kernel, 1), padding=(pad, 0), dilation=dilation, groups=channels),
    ]


class LargeSeparableKernelAttention(nn.Module):
    """x -> x * conv1x1(dilated strip pair(local strip pair(x)))."""

    def __init__(self, channels: int, kernel_size: int):
        super().__init__()
        local, dilated, dilation = KERNELS[kernel_size]
        self.attention = nn.Sequential(
            *_strip_pair(channels, local), *_strip_pair(channels, dilated, dilation), nn.Conv2d(channels, channels, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.attention(x)


@MODULES.register(
    "lska",
    kind="attention",
    paper="Large Separable Kernel Attention: Rethinking the Large Kernel Attention Design in CNN",
    arxiv="2309.01439",
)
def lska(channels: int, kernel_size: int = 23) -> nn.Module:
    one_of("lska", "kernel_size", kernel_size, tuple(KERNELS))
    return with_hparams(LargeSeparableKernelAttention(channels, kernel_size), kernel_size=kernel_size)
