"""Criss-cross attention, CCNet (kind: attention).

Paper: Huang et al., "CCNet: Criss-Cross Attention for Semantic Segmentation", arXiv:1811.11721.
Every position attends only to the positions in its row and its column (H + W - 1 of them, itself
once): queries and keys from 1x1 convs to ``channels * rd_ratio`` (C/8 in the paper), values at full
width, one softmax over the criss-cross. Applied ``recurrence`` times with shared weights (R=2, the
paper's RCCA), every position gathers context from the whole map at O((H + W) * H * W) cost. The output
is gamma * attention + x with gamma starting at 0, so the module starts as the identity.

How ours differs: CCNet's head wraps the module in 3x3 convs and concatenates the input; ours is the
recurrent attention alone. Written with ``einsum`` (the paper's code has a CUDA kernel), so its
multiply-adds are counted.
"""

from __future__ import annotations

import torch
from timm.layers import make_divisible
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import at_least, positive
from suite.registry import MODULES


class CrissCrossAttention(nn.Module):
    """x -> x + gamma * (attention over the row and the column of every position), ``recurrence`` times."""

    def __init__(self, channels: int, rd_channels: int, recurrence: int):
        super().__init__()
        self.query = nn.Conv2d(channels, rd_channels, 1)
        self.key = nn.Conv2d(channels, rd_channels, 1)
        self.value = nn.Conv2d(channels, channels, 1)
        self.gamma = nn.Parameter(torch.zeros(1))
        self.recurrence = recurrence

    def attend(self, x: torch.Tensor) -> torch.Tensor:
        height = x.shape[-2]
        query, key, value = self.query(x), self.key(x), self.value(x)
        column = torch.einsum("bchw,bcgw->bhwg", query, key)  # the position's column: (B, H, W, H)
        self_in_column = torch.eye(height, dtype=torch.bool, device=x.device)[:, None, :]  # counted in the row
        column = column.masked_fill(self_in_column, float("-inf"))
        row = torch.einsum("bchw,bchv->bhwv", query, key)  # the position's row: (B, H, W, W)
        weights = torch.cat([column, row], dim=-1).softmax(dim=-1)
        column_weights, row_weights = weights.split([height, x.shape[-1]], dim=-1)
        out = torch.einsum("bcgw,bhwg->bchw", value, column_weights)
        out = out + torch.einsum("bchv,bhwv->bchw", value, row_weights)
        return x + self.gamma * out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for _ in range(self.recurrence):
            x = self.attend(x)
        return x


@MODULES.register(
    "cca",
    kind="attention",
    paper="CCNet: Criss-Cross Attention for Semantic Segmentation",
    arxiv="1811.11721",
    width_hparams=("rd_channels",),
)
def cca(channels: int, rd_ratio: float = 1 / 8, recurrence: int = 2) -> nn.Module:
    positive("cca", "rd_ratio", rd_ratio)
    at_least("cca", "recurrence", recurrence, 1)
    rd_channels = make_divisible(channels * rd_ratio, 8, round_limit=0.0)
    return with_hparams(
        CrissCrossAttention(channels, rd_channels, recurrence),
        rd_ratio=rd_ratio,
        rd_channels=rd_channels,
        recurrence=recurrence,
    )
