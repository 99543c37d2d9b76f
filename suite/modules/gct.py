"""Gated Channel Transformation, GCT (kind: attention).

Paper: Yang et al., "Gated Channel Transformation for Visual Recognition", arXiv:1909.11519 (CVPR
2020). Three parameters per channel: a global context embedding s_c = alpha_c * ||x_c||_2 (l2 norm over
H x W), a channel normalisation s_c * sqrt(C) / ||s||_2 scaled by gamma_c, and a gate
1 + tanh(gamma_c * s_hat_c + beta_c) that multiplies x_c. alpha starts at 1, gamma and beta at 0, so the
module starts as the identity, as in the paper. Same formula as the paper's code (``mode=l2``);
``mode=l1`` embeds with the l1 norm (the paper's alternative, which needs no square root).
"""

from __future__ import annotations

import torch
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import one_of, positive
from suite.registry import MODULES

MODES = ("l2", "l1")


class GatedChannelTransformation(nn.Module):
    """x -> x * (1 + tanh(gamma * norm(alpha * ||x||) + beta)), per channel."""

    def __init__(self, channels: int, mode: str, epsilon: float):
        super().__init__()
        self.alpha = nn.Parameter(torch.ones(1, channels, 1, 1))
        self.gamma = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.beta = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.mode, self.epsilon = mode, epsilon

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "l2":
            embedding = (x.pow(2).sum(dim=(2, 3), keepdim=True) + self.epsilon).sqrt() * self.alpha
            norm = self.gamma / (embedding.pow(2).mean(dim=1, keepdim=True) + self.epsilon).sqrt()
        else:
            embedding = x.abs().sum(dim=(2, 3), keepdim=True) * self.alpha
            norm = self.gamma / (embedding.abs().mean(dim=1, keepdim=True) + self.epsilon)
        return x * (1.0 + torch.tanh(embedding * norm + self.beta))

    def extra_repr(self) -> str:
        return f"mode={self.mode}, epsilon={self.epsilon}"


@MODULES.register(
    "gct",
    kind="attention",
    paper="Gated Channel Transformation for Visual Recognition",
    arxiv="1909.11519",
)
def gct(channels: int, mode: str = "l2", epsilon: float = 1e-5) -> nn.Module:
    one_of("gct", "mode", mode, MODES)
    positive("gct", "epsilon", epsilon)
    return with_hparams(GatedChannelTransformation(channels, mode, epsilon), mode=mode, epsilon=epsilon)
