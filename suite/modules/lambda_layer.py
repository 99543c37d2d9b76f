"""Lambda layer (kind: attention).

Paper: Bello, "LambdaNetworks: Modeling Long-Range Interactions Without Attention", arXiv:2102.08602.
Wraps ``timm.layers.LambdaLayer``: queries, one set of keys (softmax over positions) and values from a
1x1 conv; a content lambda summarises the whole map into a small linear function applied to every
query, and a position lambda, computed by a local 3D convolution over an ``r`` x ``r`` neighbourhood
(the paper's "lambda convolution", r=9 here, r=23 in LambdaResNets), adds relative position. Works for
any H and W. The paper's defaults: 4 heads, key depth 16.

How ours differs: the paper's layer replaces a ResNet block's 3x3 conv; here it is an attention
module with channels in = out, so at a point in mode ``after`` it transforms the features (it has no
gate of its own) and in mode ``residual`` it adds to them. Heads that do not divide the channels are
reduced to the largest common divisor (``effective_heads``). timm's position lambda is a Conv3d with a
(r, r, 1) kernel, whose 5D weight stops a network from being converted to channels-last; ours keeps
the same weights as a 4D parameter and runs the same 3D convolution with it.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from timm.layers.lambda_layer import LambdaLayer
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import at_least, odd_kernel
from suite.registry import MODULES


class PositionLambda(nn.Module):
    """timm's (r, r, 1) Conv3d position lambda with its weight held as (out, 1, r, r): same function,
    and ``model.to(memory_format=torch.channels_last)`` works on the network around it."""

    def __init__(self, conv: nn.Conv3d):
        super().__init__()
        self.weight = nn.Parameter(conv.weight.detach().squeeze(-1).clone())
        self.bias = nn.Parameter(conv.bias.detach().clone())
        self.padding = conv.padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv3d(x, self.weight.unsqueeze(-1), self.bias, padding=self.padding)


@MODULES.register(
    "lambda",
    kind="attention",
    paper="LambdaNetworks: Modeling Long-Range Interactions Without Attention",
    arxiv="2102.08602",
)
def lambda_layer(channels: int, num_heads: int = 4, dim_head: int = 16, r: int = 9) -> nn.Module:
    at_least("lambda", "num_heads", num_heads, 1)
    at_least("lambda", "dim_head", dim_head, 1)
    odd_kernel("lambda", "r", r)
    heads = math.gcd(num_heads, channels)
    module = LambdaLayer(channels, channels, num_heads=heads, dim_head=dim_head, r=r)
    module.conv_lambda = PositionLambda(module.conv_lambda)
    return with_hparams(module, num_heads=num_heads, effective_heads=heads, dim_head=dim_head, r=r)
