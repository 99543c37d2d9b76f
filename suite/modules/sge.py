"""Spatial Group-wise Enhance, SGE (kind: attention).

Paper: Li, Hu and Yang, "Spatial Group-wise Enhance: Improving Semantic Feature Learning in
Convolutional Networks", arXiv:1905.09646. The channels are split into ``groups`` (64 in the paper);
in each group, every position's feature vector is compared with the group's global average (their dot
product), the resulting map is normalised over the positions (zero mean, unit deviation), scaled and
shifted by two parameters per group (starting at 0 and 1) and turned into a sigmoid gate for the
group's features. 2 parameters per group, nothing else.

How ours differs: groups that do not divide the channels are reduced to the largest common divisor
(``effective_groups``); the deviation over positions is the population one (divide by H*W), where the
paper's code divides by H*W - 1, so a 1x1 map gives a gate of sigmoid(bias) instead of NaN.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import at_least
from suite.registry import MODULES

EPSILON = 1e-5


class SpatialGroupEnhance(nn.Module):
    """x -> x * sigmoid(weight * standardised(<x_i, mean(x)>) + bias), per channel group."""

    def __init__(self, groups: int):
        super().__init__()
        self.groups = groups
        self.weight = nn.Parameter(torch.zeros(1, groups, 1, 1))
        self.bias = nn.Parameter(torch.ones(1, groups, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = x.shape
        grouped = x.reshape(batch, self.groups, channels // self.groups, height, width)
        similarity = (grouped * grouped.mean(dim=(3, 4), keepdim=True)).sum(dim=2)  # (B, G, H, W)
        mean = similarity.mean(dim=(2, 3), keepdim=True)
        deviation = similarity.std(dim=(2, 3), keepdim=True, unbiased=False)
        standardised = (similarity - mean) / (deviation + EPSILON)
        gate = torch.sigmoid(standardised * self.weight + self.bias)
        return (grouped * gate.unsqueeze(2)).reshape(batch, channels, height, width)


@MODULES.register(
    "sge",
    kind="attention",
    paper="Spatial Group-wise Enhance: Improving Semantic Feature Learning in Convolutional Networks",
    arxiv="1905.09646",
)
def sge(channels: int, groups: int = 64) -> nn.Module:
    at_least("sge", "groups", groups, 1)
    effective = math.gcd(groups, channels)
    return with_hparams(SpatialGroupEnhance(effective), groups=groups, effective_groups=effective)
