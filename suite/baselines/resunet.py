"""``resunet``: segmentation_models_pytorch's U-Net on a ResNet-34 encoder, with named points (task ``seg``).

Papers: Ronneberger et al., "U-Net", arXiv:1505.04597; the encoder is He et al., "Deep Residual
Learning for Image Recognition", arXiv:1512.03385. The network is ``smp.Unet("resnet34")`` itself,
randomly initialised; ``pretrained`` loads the encoder's weights: a state dict file of a ResNet-34
(torchvision's or timm's key names; an ImageNet classifier in it is left unused), or ``True`` for smp's
ImageNet encoder (``smp-hub/resnet34.imagenet``) from the Hugging Face cache. smp would download that
file itself; here it is read from the cache only and checked key by key (``suite.baselines._pretrained``).

Slots sit where smp and torchvision leave room, so the plain network keeps smp's parameters and
state_dict keys: ``stageK`` is a parameter-free slot appended to the encoder's ``layerK`` sequence
(after ResNet stage K, so it also changes the skip taken from that stage); ``decK`` is the
``attention2`` hook of a decoder block (after its two convolutions, where smp puts scSE). Decoder
points are numbered by resolution: ``decK`` outputs the stride ``2**(K-1)`` map (``dec5`` is the
first, deepest block).

``upK`` is the upsampling in front of decoder block ``decK`` (stride ``2**K`` to ``2**(K-1)``, channels
kept: the block's input width), and takes up modules. smp upsamples with ``F.interpolate`` (nearest)
inside the block's forward, so each block is turned into ``UpsamplingDecoderBlock``, the same block
whose forward calls a parameter-free ``nn.Upsample`` layer instead; parameters and state_dict keys stay
smp's. There are no ``down`` points: the ResNet-34 encoder downsamples inside its strided convolutions
(the stem and the first block of stages 2-4), which are not separate layers a down module could take
the place of.
"""

from __future__ import annotations

from collections.abc import Sequence

import segmentation_models_pytorch as smp
import torch
from segmentation_models_pytorch.decoders.unet.decoder import UnetDecoderBlock
from segmentation_models_pytorch.encoders import encoders as smp_encoders
from torch import nn

from suite.baselines._catalog import PointCatalog
from suite.baselines._checks import check_build_args, check_positive_int
from suite.baselines._points import PointsMixin
from suite.baselines._pretrained import WeightsLayout, load_pretrained
from suite.baselines._slots import Slot
from suite.baselines._weights_file import LibraryWeights
from suite.baselines._widths import WidthLadder
from suite.errors import SuiteError
from suite.registry import BASELINES

ENCODER = "resnet34"
STAGE_CHANNELS = (64, 128, 256, 512)  # ResNet-34 stage outputs, strides 4, 8, 16, 32
DECODER_CHANNELS = (256, 128, 64, 32, 16)  # smp's default; deepest block first
STAGES = tuple(f"stage{k}" for k in range(1, 5))
DECODER = tuple(f"dec{k}" for k in range(1, 6))
UPS = tuple(f"up{k}" for k in range(1, 6))
ENCODER_LAYOUT = WeightsLayout(head=("fc",), first_conv="conv1")  # smp's ResNet encoder has no classifier
IMAGENET = smp_encoders[ENCODER]["pretrained_settings"]["imagenet"]  # smp's pinned Hub repository

CATALOG = PointCatalog(
    kinds={**{name: ("attention",) for name in STAGES + DECODER}, **{name: ("up",) for name in UPS}},
    groups={"encoder": STAGES, "decoder": DECODER, "up": UPS},
    defaults={"attention": "decoder", "up": "up"},
)


class UpsamplingDecoderBlock(UnetDecoderBlock):
    """smp's decoder block with its upsampling as a layer (``upsample``) instead of a function call.

    The forward is smp's: upsample, concatenate the skip, ``attention1``, two convs, ``attention2``.
    The input size is a multiple of 32, so the 2x upsampled map always has the skip's size.
    """

    def forward(
        self,
        feature_map: torch.Tensor,
        target_height: int,
        target_width: int,
        skip_connection: torch.Tensor | None = None,
    ) -> torch.Tensor:
        feature_map = self.upsample(feature_map)
        if skip_connection is not None:
            feature_map = torch.cat([feature_map, skip_connection], dim=1)
            feature_map = self.attention1(feature_map)
        feature_map = self.conv1(feature_map)
        feature_map = self.conv2(feature_map)
        return self.attention2(feature_map)


class ResUNet(PointsMixin, smp.Unet):
    """``smp.Unet(encoder_name="resnet34")`` with slots after each encoder stage and decoder block, and
    each decoder block's upsampling as a replaceable layer."""

    catalog = CATALOG

    def __init__(
        self,
        in_channels: int = 3,
        num_classes: int = 1,
        decoder_channels: Sequence[int] = DECODER_CHANNELS,
    ):
        super().__init__(
            encoder_name=ENCODER,
            encoder_weights=None,
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
            block.__class__ = UpsamplingDecoderBlock
            block.upsample = nn.Upsample(scale_factor=2, mode=block.interpolation_mode)
            block_in = (STAGE_CHANNELS[-1], *decoder_channels[:-1])[index]  # what the block upsamples
            self.declare_point(
                f"up{level}", [], block_in, 2 ** (level - 1),
                block=f"decoder.blocks.{index}.upsample", block_in_channels=block_in, block_stride=2,
                replace="2x nearest upsampling",
            )


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
) -> smp.Unet:
    """The plain library network the ``resunet`` baseline must equal when nothing is inserted."""
    return smp.Unet(
        ENCODER,
        encoder_weights=None,
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
    # the (pretrained) encoder stays ResNet-34; a capacity control widens the decoder, deepest block first
    widths=WidthLadder(
        multiples=(1,) * len(DECODER),
        fine_order=tuple(range(len(DECODER))),
        read=lambda kwargs: tuple(kwargs["decoder_channels"]),
        write=lambda coords: {"decoder_channels": tuple(coords)},
    ),
    weights=LibraryWeights(IMAGENET["repo_id"], IMAGENET["revision"]),
)
def resunet(
    task: str,
    num_classes: int,
    in_channels: int,
    image_size: int,
    decoder_channels: Sequence[int] = DECODER_CHANNELS,
    pretrained: bool | str = False,
) -> ResUNet:
    """smp U-Net, ResNet-34 encoder; ``decoder_channels``: five widths, deepest first; ``pretrained``:
    the encoder's weights, a state dict file or True for smp's ImageNet encoder from the Hugging Face cache."""
    check_build_args("resunet", task, in_channels, image_size, 32, "the encoder downsamples 5 times")
    _check_decoder_channels(decoder_channels)
    model = ResUNet(in_channels, num_classes, decoder_channels)
    return load_pretrained(model, pretrained, "resunet", ENCODER_LAYOUT, target=model.encoder)
