"""``unet``: the classic U-Net with named insertion points (task ``seg``).

Paper: Ronneberger et al., "U-Net: Convolutional Networks for Biomedical Image Segmentation",
arXiv:1505.04597. Double 3x3 conv blocks, four 2x2 max-pool downsamplings, four 2x2 transposed-conv
upsamplings that halve the channels, skips concatenated, a 1x1 head. Ours differs from the paper as
most reimplementations do: padded convolutions (output size = input size, no cropping) and
BatchNorm after each convolution; ``width`` (64 in the paper) scales every stage, and ``widths`` sets
each of the five stages on its own (a capacity-matched control uses it to reach a parameter count).

Points are numbered by resolution: ``encK``, ``skipK`` and ``decK`` work at stride ``2**(K-1)``
(``enc5`` is the bottleneck at stride 16). ``encK``/``decK`` take attention modules after the block
and conv modules that replace the block's double conv; ``skipK`` takes fusion modules, which merge
the upsampled decoder tensor into the skip tensor before concatenation, and attention modules,
applied to the skip tensor. ``downK`` is the 2x2 max-pool that takes the stride ``2**(K-1)`` map to
stride ``2**K`` (before ``enc(K+1)``) and takes down modules; ``upK`` is the 2x2 transposed conv that
takes the stride ``2**K`` map to stride ``2**(K-1)`` (before ``decK``), halving the channels, and takes
up modules. Each max-pool is its own (parameter-free) layer, so the plain network's parameters and
state_dict keys are those of a U-Net with one shared pool.
"""

from __future__ import annotations

import torch
from torch import nn

from suite.baselines._catalog import PointCatalog
from suite.baselines._checks import check_build_args, check_positive_int
from suite.baselines._points import PointsMixin
from suite.baselines._slots import Slot
from suite.baselines._widths import check_widths, doubling, stage_ladder
from suite.registry import BASELINES

DEPTH = 5  # encoder blocks, the last one is the bottleneck
ENCODER = tuple(f"enc{k}" for k in range(1, DEPTH + 1))
DECODER = tuple(f"dec{k}" for k in range(1, DEPTH))
SKIPS = tuple(f"skip{k}" for k in range(1, DEPTH))
DOWNS = tuple(f"down{k}" for k in range(1, DEPTH))
UPS = tuple(f"up{k}" for k in range(1, DEPTH))

CATALOG = PointCatalog(
    kinds={
        **{name: ("attention", "conv") for name in ENCODER + DECODER},
        **{name: ("fusion", "attention") for name in SKIPS},
        **{name: ("down",) for name in DOWNS},
        **{name: ("up",) for name in UPS},
    },
    groups={
        "encoder": ENCODER, "decoder": DECODER, "skip": SKIPS, "bottleneck": ("enc5",), "down": DOWNS, "up": UPS,
    },
    defaults={"attention": "decoder", "conv": "encoder", "fusion": "skip", "down": "down", "up": "up"},
)


class DoubleConv(nn.Sequential):
    """(3x3 conv, BatchNorm, ReLU) twice; padded, so the spatial size is kept."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__(
            nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )


class UNet(PointsMixin, nn.Module):
    """U-Net whose encoder, decoder and skip points are named slots (empty: the plain U-Net)."""

    catalog = CATALOG

    def __init__(self, in_channels: int = 3, num_classes: int = 1, width: int = 64, widths: tuple | None = None):
        super().__init__()
        widths = list(widths or doubling(width, DEPTH))
        self.encoder = nn.ModuleList(
            DoubleConv(c_in, c_out) for c_in, c_out in zip([in_channels, *widths[:-1]], widths)
        )
        # down[k] takes the stride-2**k map to stride 2**(k+1); up[k] and decoder[k] produce the
        # stride-2**k map from the one below it.
        self.down = nn.ModuleList(nn.MaxPool2d(2) for _ in range(DEPTH - 1))
        self.up = nn.ModuleList(nn.ConvTranspose2d(widths[k + 1], widths[k], 2, stride=2) for k in range(DEPTH - 1))
        self.decoder = nn.ModuleList(DoubleConv(2 * widths[k], widths[k]) for k in range(DEPTH - 1))
        self.head = nn.Conv2d(widths[0], num_classes, 1)
        self.point_slots = nn.ModuleDict({name: Slot() for name in CATALOG.names})

        for k, name in enumerate(ENCODER):
            block_in = in_channels if k == 0 else widths[k - 1]
            self.declare_point(
                name, [f"point_slots.{name}"], widths[k], 2**k,
                block=f"encoder.{k}", block_in_channels=block_in, replace="double conv block",
            )
        for k, name in enumerate(DECODER):
            self.declare_point(
                name, [f"point_slots.{name}"], widths[k], 2**k,
                block=f"decoder.{k}", block_in_channels=2 * widths[k], replace="double conv block",
            )
        for k, name in enumerate(SKIPS):
            self.declare_point(
                name, [f"point_slots.{name}"], widths[k], 2**k,
                replace="skip tensor, merged with the upsampled decoder tensor before concatenation",
            )
        for k, name in enumerate(DOWNS):
            self.declare_point(
                name, [], widths[k], 2 ** (k + 1),
                block=f"down.{k}", block_in_channels=widths[k], block_stride=2, replace="2x2 max-pool",
            )
        for k, name in enumerate(UPS):
            self.declare_point(
                name, [], widths[k], 2**k,
                block=f"up.{k}", block_in_channels=widths[k + 1], block_stride=2, replace="2x2 transposed conv",
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        slots = self.point_slots
        skips = []
        for k, block in enumerate(self.encoder):
            x = slots[ENCODER[k]](block(self.down[k - 1](x) if k else x))
            skips.append(x)
        for k in reversed(range(DEPTH - 1)):
            up = self.up[k](x)
            skip = slots[SKIPS[k]](skips[k], decoder=up)
            x = slots[DECODER[k]](self.decoder[k](torch.cat([skip, up], dim=1)))
        return self.head(x)


@BASELINES.register(
    "unet",
    catalog=CATALOG,
    tasks=("seg",),
    paper="U-Net: Convolutional Networks for Biomedical Image Segmentation",
    arxiv="1505.04597",
    reference="suite.baselines.unet.UNet(in_channels, num_classes, width): no library ships a backbone-free U-Net",
    smoke=dict(image_size=32, width=8),
    widths=stage_ladder(DEPTH),
)
def unet(
    task: str, num_classes: int, in_channels: int, image_size: int, width: int = 64, widths: tuple | None = None
) -> UNet:
    """Classic U-Net; ``width``: channels of the first block (64 in the paper; 16 or 32 for small runs);
    ``widths``: the channels of each of the five blocks, shallow to deep (set, it replaces ``width``)."""
    check_build_args("unet", task, in_channels, image_size, 2 ** (DEPTH - 1), "four 2x poolings")
    check_positive_int("unet", "width", width, "channels of the first block: 64 in the paper, 16 or 32 for small runs")
    check_widths("unet", widths, DEPTH)
    return UNet(in_channels, num_classes, width, widths)
