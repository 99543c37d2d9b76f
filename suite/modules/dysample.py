"""DySample, upsampling by learned sampling (kind: up).

Paper: Liu, Lu, Fu and Cao, "Learning to Upsample by Learning to Sample", arXiv:2308.15085 (ICCV 2023).
A 1x1 conv predicts, for every output pixel, an offset from its bilinear-upsampling position; the map
is then read at those positions with ``F.grid_sample`` (bilinear, border padding), in ``groups``
channel groups with their own offsets. The offsets start at almost zero (weights drawn with std 0.001),
so at initialisation the layer is bilinear upsampling. Static scope (``dynamic=false``) multiplies the
offsets by 0.25, the paper's "LP" default; ``dynamic=true`` is its "DySample+" scope, 0.5 *
sigmoid(1x1 conv) per offset, that conv starting at zero.

How ours differs: the paper's layer keeps the channels; to map in -> out channels as the U-Net's
transposed conv does, a 1x1 conv + BN + ReLU first projects the input to ``out_channels`` at the low
resolution (none when they are equal). Groups that do not divide the channels are reduced to the
largest common divisor (``effective_groups``). A 1x1 input has nothing to sample between (every
position reads the same value, so the offsets would never learn): it needs at least 2 positions.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import at_least, min_positions
from suite.modules._resample import check_factor, projection
from suite.registry import MODULES

MIN_POSITIONS = 2


def initial_offsets(scale: int, groups: int) -> torch.Tensor:
    """Offsets (in input pixels) of the bilinear positions of the ``scale**2`` sub-pixels from their
    source pixel's centre, laid out as the offset conv's channels: (1, 2 * groups * scale**2, 1, 1),
    axis (x, y) major, then group, then sub-pixel (row, column)."""
    steps = (torch.arange(scale) + 0.5) / scale - 0.5
    rows, cols = torch.meshgrid(steps, steps, indexing="ij")
    per_axis = torch.stack([cols.flatten(), rows.flatten()])  # (2, scale**2): x, then y
    return per_axis[:, None, :].expand(2, groups, scale**2).reshape(1, -1, 1, 1).clone()


class DySample(nn.Module):
    """(B, in, H, W) -> (B, out, scale*H, scale*W), read at learned positions near the bilinear ones."""

    def __init__(self, in_channels: int, out_channels: int, scale: int, groups: int, dynamic: bool):
        super().__init__()
        self.scale, self.groups = scale, groups
        self.project = projection(in_channels, out_channels)
        self.offset = nn.Conv2d(out_channels, 2 * groups * scale**2, 1)
        nn.init.normal_(self.offset.weight, std=0.001)
        nn.init.zeros_(self.offset.bias)
        self.scope = nn.Conv2d(out_channels, 2 * groups * scale**2, 1) if dynamic else None
        if self.scope is not None:
            nn.init.zeros_(self.scope.weight)
            nn.init.zeros_(self.scope.bias)
        self.register_buffer("initial", initial_offsets(scale, groups), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        min_positions("dysample", x, MIN_POSITIONS)
        x = self.project(x)
        batch, channels, height, width = x.shape
        scale, groups = self.scale, self.groups
        scope = 0.5 * torch.sigmoid(self.scope(x)) if self.scope is not None else 0.25
        offsets = F.pixel_shuffle(self.offset(x) * scope + self.initial, scale)  # (B, 2*groups, sH, sW)
        offsets = offsets.view(batch, 2, groups, scale * height, scale * width)
        # Source pixel centre of every output pixel, in input pixels (x along W, y along H).
        xs = torch.arange(scale * width, device=x.device, dtype=x.dtype).div(scale, rounding_mode="floor") + 0.5
        ys = torch.arange(scale * height, device=x.device, dtype=x.dtype).div(scale, rounding_mode="floor") + 0.5
        grid_x = 2 * (xs + offsets[:, 0]) / width - 1  # (B, groups, sH, sW), normalised to [-1, 1]
        grid_y = 2 * (ys[:, None] + offsets[:, 1]) / height - 1
        grid = torch.stack([grid_x, grid_y], dim=-1).flatten(0, 1)  # (B*groups, sH, sW, 2)
        sampled = F.grid_sample(
            x.reshape(batch * groups, channels // groups, height, width),
            grid,
            mode="bilinear",
            padding_mode="border",
            align_corners=False,
        )
        return sampled.view(batch, channels, scale * height, scale * width)


@MODULES.register(
    "dysample",
    kind="up",
    paper="Learning to Upsample by Learning to Sample",
    arxiv="2308.15085",
    min_positions=MIN_POSITIONS,
)
def dysample(
    in_channels: int, out_channels: int, scale: int = 2, groups: int = 4, dynamic: bool = False
) -> nn.Module:
    check_factor("dysample", "scale", scale)
    at_least("dysample", "groups", groups, 1)
    effective = math.gcd(groups, out_channels)
    module = DySample(in_channels, out_channels, scale, effective, dynamic)
    return with_hparams(module, groups=groups, effective_groups=effective, dynamic=dynamic)
