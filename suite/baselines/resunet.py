"""``resunet``: segmentation_models_pytorch's U-Net on a ResNet-34 encoder, with named points (task ``seg``).

Papers: Ronneberger et al., "U-Net", arXiv:1505.04597; the encoder is He et al., "Deep Residual
Learning for Image Recognition", arXiv:1512.03385. The network is ``smp.Unet("resnet34")`` itself,
randomly initialised unless ``pretrained=True`` (ImageNet encoder weights, downloaded by smp).

Slots sit where smp and torchvision leave room, so the plain network keeps smp's parameters and
state_dict keys: ``stageK`` is a parameter-free slot appended to the encoder's ``layerK`` sequence
(after ResNet stage K, so it also changes the skip taken from that stage); ``decK`` is the
``attention2`` hook of a decoder block (after its two convolutions, where smp puts scSE). Decoder
points are numbered by resolution: ``decK`` outputs the stride ``2**(K-1)`` map (``dec5`` is the
first, deepest block).
"""

from __future__ import annotations

from collections.abc import Sequence

import segmentation_models_pytorch as smp

from suite.baselines._catalog import PointCatalog
from suite.baselines._checks import check_build_args, check_positive_int
from suite.baselines._points import PointsMixin
from suite.baselines._slots import Slot
from suite.errors import SuiteError
from suite.registry import BASELINES

ENCODER = "resnet34"
STAGE_CHANNELS = (64, 128, 256, 512)  # ResNet-34 stage outputs, strides 4, 8, 16, 32
DECODER_CHANNELS = (256, 128, 64, 32, 16)  # smp's default; deepest block first
STAGES = tuple(f"stage{k}" for k in range(1, 5))
DECODER = tuple(f"dec{k}" for k in range(1, 6))

CATALOG = PointCatalog(
    kinds={name: ("attention",) for name in STAGES + DECODER},
    groups={"encoder": STAGES, "decoder": DECODER},
    defaults={"attention": "decoder"},
)


class ResUNet(PointsMixin, smp.Unet):
    """``smp.Unet(encoder_name="resnet34")`` with slots after each encoder stage and decoder block."""

    catalog = CATALOG

    def __init__(
        self,
        in_channels: int = 3,
        num_classes: int = 1,
        decoder_channels: Sequence[int] = DECODER_CHANNELS,
        pretrained: bool = False,
    ):
        super().__init__(
            encoder_name=ENCODER,
            encoder_weights="imagenet" if pretrained else None,
            in_channels=in_channels,
            classes=num_classes,
            decoder_channels=tuple(decoder_channels),
        )
        for k, name in enumerate(STAGES, start=1):
            stage = getattr(self.encoder, f"layer{k}")
            stage.append(Slot())
            self.declare_point(name, [f"encoder.layer{k}.{len(stage) - 1}"], STAGE_CHANNELS[k - 1], 2 ** (k + 1))
        depth = len(DECODER)
        for index, block in enumerate(self.decoder.blocks):
            level = depth - index  # blocks run deepest first
            block.attention2.attention = Slot()
            slot_path = f"decoder.blocks.{index}.attention2.attention"
            self.declare_point(f"dec{level}", [slot_path], decoder_channels[index], 2 ** (level - 1))


def _check_decoder_channels(decoder_channels: Sequence[int]) -> None:
    if not isinstance(decoder_channels, Sequence) or len(decoder_channels) != len(DECODER):
        raise SuiteError(
            f"resunet decoder_channels must list {len(DECODER)} channel counts, deepest block first "
            f"(default {list(DECODER_CHANNELS)}; e.g. [64, 32, 16, 8, 8] for small runs), got {decoder_channels!r}"
        )
    for channels in decoder_channels:
        check_positive_int("resunet", "decoder_channels entry", channels, "channels of one decoder block")


def reference_resunet(
    task: str,
    num_classes: int,
    in_channels: int,
    image_size: int,
    decoder_channels: Sequence[int] = DECODER_CHANNELS,
    pretrained: bool = False,
) -> smp.Unet:
    """The plain library network the ``resunet`` baseline must equal when nothing is inserted."""
    return smp.Unet(
        ENCODER,
        encoder_weights="imagenet" if pretrained else None,
        in_channels=in_channels,
        classes=num_classes,
        decoder_channels=tuple(decoder_channels),
    )


@BASELINES.register(
    "resunet",
    catalog=CATALOG,
    tasks=("seg",),
    paper="U-Net: Convolutional Networks for Biomedical Image Segmentation (ResNet-34 encoder)",
    arxiv="1505.04597",
    reference='smp.Unet("resnet34", encoder_weights=None, in_channels=..., classes=..., decoder_channels=...)',
    reference_model=reference_resunet,
    smoke=dict(image_size=32, decoder_channels=(32, 16, 16, 8, 8)),
)
def resunet(
    task: str,
    num_classes: int,
    in_channels: int,
    image_size: int,
    decoder_channels: Sequence[int] = DECODER_CHANNELS,
    pretrained: bool = False,
) -> ResUNet:
    """smp U-Net, ResNet-34 encoder; ``decoder_channels``: five widths, deepest first; ``pretrained``:
    ImageNet encoder weights (downloads them; off by default)."""
    check_build_args("resunet", task, in_channels, image_size, 32, "the encoder downsamples 5 times")
    _check_decoder_channels(decoder_channels)
    return ResUNet(in_channels, num_classes, decoder_channels, bool(pretrained))
