"""Frequency channel attention, FcaNet (kind: attention).

Paper: Qin et al., "FcaNet: Frequency Channel Attention Networks", arXiv:2012.11879. SE's global
average pooling is the lowest frequency of the 2D DCT; FcaNet splits the channels into groups and
squeezes each group with another DCT basis function (the 16 frequencies the paper found best on
ImageNet, ``top16``, or the lowest ones, ``low16``, ...), then excites with SE's MLP (no biases, r=16)
and a sigmoid gate. The DCT filters are fixed buffers on a ``dct_size`` x ``dct_size`` grid (7x7), the
map is adaptive-average-pooled to that grid first, as the paper's code does for maps of another size.

How ours differs: the paper sizes the DCT grid per ResNet stage (56, 28, 14, 7) with frequencies
scaled from 7x7; ours uses one 7x7 grid at every point, so it works at any map size. Channels that do
not divide into the number of frequencies are dealt to them in nearly equal consecutive groups (the
paper requires divisibility). The MLP's hidden width is ``channels * rd_ratio`` rounded to a multiple of
8, minimum 8. With bias-free MLPs at every ResNet-50 block it has the paper's 28.07M parameters.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from timm.layers import make_divisible
from torch import nn

from suite.errors import SuiteError
from suite.modules._builder import with_hparams
from suite.modules._checks import one_of, positive
from suite.registry import MODULES

# The paper's frequency rankings on a 7x7 DCT grid (u along H, v along W), best first.
FREQUENCIES = {
    "top": (
        (0, 0, 6, 0, 0, 1, 1, 4, 5, 1, 3, 0, 0, 0, 3, 2, 4, 6, 3, 5, 5, 2, 6, 5, 5, 3, 3, 4, 2, 2, 6, 1),
        (0, 1, 0, 5, 2, 0, 2, 0, 0, 6, 0, 4, 6, 3, 5, 2, 6, 3, 3, 3, 5, 1, 1, 2, 4, 2, 1, 1, 3, 0, 5, 3),
    ),
    "low": (
        (0, 0, 1, 1, 0, 2, 2, 1, 2, 0, 3, 4, 0, 1, 3, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 6, 1, 2, 3, 4),
        (0, 1, 0, 1, 2, 0, 1, 2, 2, 3, 0, 0, 4, 3, 1, 5, 4, 3, 2, 1, 0, 6, 5, 4, 3, 2, 1, 0, 6, 5, 4, 3),
    ),
}
SELECTIONS = tuple(f"{rank}{n}" for rank in FREQUENCIES for n in (1, 2, 4, 8, 16, 32))
GRID = 7  # the frequency rankings are positions on a 7x7 DCT grid


def dct_basis(frequency: int, size: int) -> torch.Tensor:
    """The orthonormal 1D DCT-II basis vector of ``frequency`` over ``size`` positions."""
    positions = torch.arange(size, dtype=torch.float64)
    basis = torch.cos(math.pi * frequency * (positions + 0.5) / size) / math.sqrt(size)
    return basis * (math.sqrt(2) if frequency else 1.0)


def dct_filters(channels: int, selection: str, size: int) -> torch.Tensor:
    """(channels, size, size): channel group i gets the i-th selected 2D DCT basis function."""
    rank, count = selection[:3], int(selection[3:])
    us, vs = (axis[:count] for axis in FREQUENCIES[rank])
    scale = size // GRID
    owner = torch.arange(channels) * count // channels  # nearly equal consecutive groups
    filters = [torch.outer(dct_basis(us[i] * scale, size), dct_basis(vs[i] * scale, size)) for i in range(count)]
    return torch.stack(filters)[owner].float()


class FrequencyChannelAttention(nn.Module):
    """x -> x * sigmoid(MLP(sum over the DCT grid of pool(x) * filter)), one DCT frequency per channel group."""

    def __init__(self, channels: int, rd_channels: int, selection: str, size: int):
        super().__init__()
        self.size = size
        self.register_buffer("filters", dct_filters(channels, selection, size), persistent=False)
        self.mlp = nn.Sequential(
            nn.Linear(channels, rd_channels, bias=False),
            nn.ReLU(inplace=True),
            nn.Linear(rd_channels, channels, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = F.adaptive_avg_pool2d(x, self.size)
        spectrum = (pooled * self.filters).sum(dim=(2, 3))
        return x * torch.sigmoid(self.mlp(spectrum))[..., None, None]


@MODULES.register(
    "fca",
    kind="attention",
    paper="FcaNet: Frequency Channel Attention Networks",
    arxiv="2012.11879",
    width_hparams=("rd_channels",),
)
def fca(channels: int, rd_ratio: float = 1 / 16, frequencies: str = "top16", dct_size: int = 7) -> nn.Module:
    positive("fca", "rd_ratio", rd_ratio)
    one_of("fca", "frequencies", frequencies, SELECTIONS)
    if dct_size < GRID or dct_size % GRID:
        raise SuiteError(f"fca: dct_size must be a multiple of {GRID} (7, 14, 28, 56), got {dct_size!r}")
    rd_channels = make_divisible(channels * rd_ratio, 8, round_limit=0.0)
    module = FrequencyChannelAttention(channels, rd_channels, frequencies, dct_size)
    return with_hparams(
        module, rd_ratio=rd_ratio, rd_channels=rd_channels, frequencies=frequencies, dct_size=dct_size
    )
