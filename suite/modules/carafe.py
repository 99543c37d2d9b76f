"""CARAFE, content-aware reassembly of features (kind: up).

Paper: Wang et al., "CARAFE: Content-Aware ReAssembly of FEatures", arXiv:1905.02188. A kernel
prediction branch (a 1x1 channel compressor to ``compressed_channels``, then a ``encoder_kernel``
conv to ``scale**2 * up_kernel**2`` channels, pixel-shuffled and softmax-normalised) gives every output
pixel its own ``up_kernel`` x ``up_kernel`` reassembly kernel, which is applied to the neighbourhood of
its source pixel. The paper's defaults: compressor 64 channels, encoder kernel 3, up kernel 5.

How ours differs: the paper's operator keeps the channels; to map in -> out channels as the U-Net's
transposed conv does, a 1x1 conv + BN + ReLU first projects the input to ``out_channels`` at the low
resolution (none when they are equal), and CARAFE reassembles that. The reassembly is one ``einsum``
over the unfolded neighbourhoods (mmcv's CUDA kernel is not used), so it runs on any device and its
multiply-adds are counted. The compressor is ``min(compressed_channels, in_channels)`` wide
(``compressor_width``), so it never widens a narrow input.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from timm.layers import ConvNormAct
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import at_least, odd_kernel
from suite.modules._resample import check_factor, projection
from suite.registry import MODULES


class Carafe(nn.Module):
    """(B, in, H, W) -> (B, out, scale*H, scale*W): predicted kernels reassemble each neighbourhood."""

    def __init__(
        self, in_channels: int, out_channels: int, scale: int, compressed: int, encoder_kernel: int, up_kernel: int
    ):
        super().__init__()
        self.scale, self.up_kernel = scale, up_kernel
        self.project = projection(in_channels, out_channels)
        self.compress = ConvNormAct(in_channels, compressed, 1)
        self.encode = nn.Conv2d(compressed, scale**2 * up_kernel**2, encoder_kernel, padding=encoder_kernel // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, _, height, width = x.shape
        scale, taps = self.scale, self.up_kernel**2
        kernels = F.pixel_shuffle(self.encode(self.compress(x)), scale)  # (B, taps, sH, sW)
        kernels = kernels.softmax(dim=1).view(batch, taps, height, scale, width, scale)
        features = self.project(x)
        neighbourhoods = F.unfold(features, self.up_kernel, padding=self.up_kernel // 2)
        neighbourhoods = neighbourhoods.view(batch, -1, taps, height, width)
        out = torch.einsum("bckhw,bkhiwj->bchiwj", neighbourhoods, kernels)
        return out.reshape(batch, -1, height * scale, width * scale)


@MODULES.register(
    "carafe",
    kind="up",
    paper="CARAFE: Content-Aware ReAssembly of FEatures",
    arxiv="1905.02188",
)
def carafe(
    in_channels: int,
    out_channels: int,
    scale: int = 2,
    compressed_channels: int = 64,
    encoder_kernel: int = 3,
    up_kernel: int = 5,
) -> nn.Module:
    check_factor("carafe", "scale", scale)
    at_least("carafe", "compressed_channels", compressed_channels, 1)
    odd_kernel("carafe", "encoder_kernel", encoder_kernel)
    odd_kernel("carafe", "up_kernel", up_kernel)
    compressed = min(compressed_channels, in_channels)
    module = Carafe(in_channels, out_channels, scale, compressed, encoder_kernel, up_kernel)
    return with_hparams(
        module,
        compressed_channels=compressed_channels,
        compressor_width=compressed,
        encoder_kernel=encoder_kernel,
        up_kernel=up_kernel,
    )
