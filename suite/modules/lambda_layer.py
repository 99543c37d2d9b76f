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
reduced to the largest common divisor (``effective_heads``).
"""

from __future__ import annotations

import math

from timm.layers.lambda_layer import LambdaLayer
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import at_least, odd_kernel
from suite.registry import MODULES


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
    return with_hparams(module, num_heads=num_heads, effective_heads=heads, dim_head=dim_head, r=r)
