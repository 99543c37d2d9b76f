"""A spatial attention with a bug new users make: it crops its output as if every map were square.

Fine on 7x7 maps and inside every baseline (their maps are square), wrong at 13x17: the contract
suite must say so in one line naming the point and the sizes.
"""

import torch
from torch import nn

from suite.registry import MODULES


class SquareOnly(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height = x.shape[-2]
        attention = torch.sigmoid(self.conv(x.mean(dim=1, keepdim=True)))
        return (x * attention)[..., :height, :height]


@MODULES.register("square_only", kind="attention", paper="none (a deliberately broken test plugin)", arxiv=None)
def square_only(channels: int) -> nn.Module:
    return SquareOnly()
