"""SimAM, a parameter-free attention module (kind: attention).

Paper: Yang, Zhang, Li and Xie, "SimAM: A Simple, Parameter-Free Attention Module for Convolutional
Neural Networks", ICML 2021, PMLR 139:11863-11874 (no arXiv version). Each activation is weighted by
sigmoid(1/e*), where the inverse minimal energy 1/e* = (x - mu)^2 / (4 (sigma^2 + lambda)) + 1/2 is
computed per channel over the H*W positions (sigma^2 with n = H*W - 1). No parameters, so nothing
scales with width. Same formula as the paper's reference code; the energy needs at least two positions,
so a 1x1 map raises an error instead of dividing by zero.
"""

from __future__ import annotations

import torch
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import min_positions, positive
from suite.registry import MODULES

MIN_POSITIONS = 2


class SimAM(nn.Module):
    """x -> x * sigmoid((x - mu)^2 / (4 (var + e_lambda)) + 0.5), statistics per channel over H*W."""

    def __init__(self, e_lambda: float):
        super().__init__()
        self.e_lambda = e_lambda

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        min_positions("simam", x, MIN_POSITIONS)
        neighbours = x.shape[-2] * x.shape[-1] - 1
        squared_deviation = (x - x.mean(dim=(2, 3), keepdim=True)).pow(2)
        variance = squared_deviation.sum(dim=(2, 3), keepdim=True) / neighbours
        inverse_energy = squared_deviation / (4 * (variance + self.e_lambda)) + 0.5
        return x * torch.sigmoid(inverse_energy)

    def extra_repr(self) -> str:
        return f"e_lambda={self.e_lambda}"


@MODULES.register(
    "simam",
    kind="attention",
    paper="SimAM: A Simple, Parameter-Free Attention Module for Convolutional Neural Networks",
    arxiv=None,
    reference="ICML 2021, PMLR 139:11863-11874",
    min_positions=MIN_POSITIONS,
)
def simam(channels: int, e_lambda: float = 1e-4) -> nn.Module:
    positive("simam", "e_lambda", e_lambda)
    return with_hparams(SimAM(e_lambda), e_lambda=e_lambda)
