"""BiFPN weighted fusion node (kind: fusion).

Paper: Tan, Pang and Le, "EfficientDet: Scalable and Efficient Object Detection", arXiv:1911.09070.
A BiFPN node fuses its inputs with "fast normalised fusion": one learned non-negative weight per input
(ReLU, starting at 1), O = sum(w_i * I_i) / (eps + sum(w_j)), followed by Swish, a 3x3 depthwise-
separable conv and BatchNorm, as in EfficientDet. Here the two inputs are the skip and the upsampled
decoder features, and the node's output takes the skip's place before the U-Net concatenates it with
the decoder features; a decoder at another resolution is resized to the skip's (EfficientDet resizes
with nearest upsampling or max-pooling; ours is bilinear, as for every fusion module).
"""

from __future__ import annotations

import torch
from timm.layers import create_conv2d
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import positive
from suite.modules._fusion import match_size
from suite.registry import MODULES


class WeightedFusion(nn.Module):
    """(decoder, skip) -> BN(sepconv(swish((w_s * skip + w_d * decoder) / (eps + w_s + w_d))))."""

    def __init__(self, channels: int, epsilon: float):
        super().__init__()
        self.weights = nn.Parameter(torch.ones(2))
        self.epsilon = epsilon
        self.conv = nn.Sequential(
            nn.SiLU(),
            create_conv2d(channels, channels, 3, depthwise=True),
            create_conv2d(channels, channels, 1, bias=True),
            nn.BatchNorm2d(channels),
        )

    def forward(self, decoder: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        weights = torch.relu(self.weights)
        fused = (weights[0] * skip + weights[1] * match_size(decoder, skip)) / (weights.sum() + self.epsilon)
        return self.conv(fused)


@MODULES.register(
    "bifpn",
    kind="fusion",
    paper="EfficientDet: Scalable and Efficient Object Detection",
    arxiv="1911.09070",
)
def bifpn(channels: int, epsilon: float = 1e-4) -> nn.Module:
    positive("bifpn", "epsilon", epsilon)
    return with_hparams(WeightedFusion(channels, epsilon), epsilon=epsilon)
