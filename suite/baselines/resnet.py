"""``resnet18``, ``resnet34``, ``resnet50``: timm's ResNets with named insertion points (task ``cls``).

Paper: He et al., "Deep Residual Learning for Image Recognition", arXiv:1512.03385. The networks are
timm's ``ResNet`` class built through timm's own ``build_model_with_cfg`` with the ResNet-18/34/50
block and depth settings, randomly initialised, or with ``pretrained`` weights: a state dict file, or
``True`` for timm's own (``timm/resnet18.a1_in1k`` and its siblings) from the Hugging Face cache; see
``suite.baselines._pretrained`` for how every key is checked and which may stay fresh (the classifier
with another class count, the CIFAR stem).

Small images (``image_size <= 64``, e.g. CIFAR's 32 px) get the CIFAR stem of the paper's section
4.2: a 3x3 stride-1 convolution and no max-pool, made by replacing timm's ``conv1`` and ``maxpool``
after creation; their reference is the same replacement applied to ``timm.create_model(name)``.
``width`` (64 in the paper) is the first stage's channel count, doubled at each later stage (timm's
``channels``; the stem keeps timm's 64); 16 keeps CPU runs to seconds per epoch on small images.
``widths`` sets the four stages one by one (timm's ``channels`` as given), which a capacity-matched
control uses to reach a parameter count.

Points: ``stem`` (after the stem), ``stageK`` (after ResNet stage K) and ``blocksK`` (inside every
residual block of stage K, before the residual addition). ``blocksK`` fills the block's ``se``
attribute, exactly where SENet (arXiv:1709.01507) and timm's ``seresnet*`` put their module, so
``resnet50+se@blocks`` is timm's ``seresnet50``.
"""

from __future__ import annotations

import torch
from timm.models import build_model_with_cfg, create_model, get_pretrained_cfg
from timm.models.resnet import BasicBlock, Bottleneck, ResNet
from torch import nn

from suite.baselines._catalog import PointCatalog
from suite.baselines._checks import check_build_args, check_positive_int
from suite.baselines._points import PointsMixin
from suite.baselines._pretrained import WeightsLayout, load_pretrained
from suite.baselines._slots import Slot
from suite.baselines._weights_file import LibraryWeights
from suite.baselines._widths import check_widths, doubling, stage_ladder
from suite.registry import BASELINES

# name -> (residual block, blocks per stage), as in timm's resnet18 / resnet34 / resnet50 entries.
ARCHITECTURES = {
    "resnet18": (BasicBlock, (2, 2, 2, 2)),
    "resnet34": (BasicBlock, (3, 4, 6, 3)),
    "resnet50": (Bottleneck, (3, 4, 6, 3)),
}
CIFAR_STEM_MAX_SIZE = 64  # images up to this size get the 3x3 stride-1 stem without max-pool
MIN_IMAGE_SIZE = 8  # with the CIFAR stem, stages 2-4 halve the map three times: 8 px leaves 1x1
MIN_SIZE_HINT = "stages 2-4 halve the feature map three times"
STAGES = tuple(f"stage{k}" for k in range(1, 5))
BLOCKS = tuple(f"blocks{k}" for k in range(1, 5))

CATALOG = PointCatalog(
    kinds={name: ("attention",) for name in ("stem", *STAGES, *BLOCKS)},
    groups={"stages": STAGES, "blocks": BLOCKS},
    defaults={"attention": "blocks"},
)


def use_cifar_stem(model: ResNet) -> ResNet:
    """Swap timm's 7x7 stride-2 stem conv and 3x3 max-pool for one 3x3 stride-1 conv (He et al. 4.2)."""
    stem = model.conv1
    model.conv1 = nn.Conv2d(stem.in_channels, stem.out_channels, 3, stride=1, padding=1, bias=False)
    nn.init.kaiming_normal_(model.conv1.weight, mode="fan_out", nonlinearity="relu")  # timm's conv init
    model.maxpool = nn.Identity()
    return model


class SlottedResNet(PointsMixin, ResNet):
    """timm ``ResNet`` with a slot after the stem and each stage, and one in every block's ``se``."""

    catalog = CATALOG

    def __init__(self, cifar_stem: bool = False, **resnet_kwargs):
        super().__init__(**resnet_kwargs)
        if cifar_stem:
            use_cifar_stem(self)
        self.point_slots = nn.ModuleDict({name: Slot() for name in ("stem", *STAGES)})
        stem_stride = 1 if cifar_stem else 4
        self.declare_point("stem", ["point_slots.stem"], self.conv1.out_channels, stem_stride)
        for k, stage in enumerate(self.stages, start=1):
            channels = self.feature_info[k]["num_chs"]  # timm's entry k is stage k's output
            stride = stem_stride * 2 ** (k - 1)
            self.declare_point(f"stage{k}", [f"point_slots.stage{k}"], channels, stride)
            for block in stage:
                block.se = Slot()
            self.declare_point(f"blocks{k}", [f"layer{k}.{i}.se" for i in range(len(stage))], channels, stride)

    @property
    def stages(self) -> tuple[nn.Sequential, ...]:
        return (self.layer1, self.layer2, self.layer3, self.layer4)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.act1(self.bn1(self.conv1(x))))
        x = self.point_slots["stem"](x)
        for name, stage in zip(STAGES, self.stages):
            x = self.point_slots[name](stage(x))
        return x


def width_kwargs(width: int, widths: tuple | None = None) -> dict:
    """timm ``ResNet`` arguments for a network whose first stage has ``width`` channels, doubled at each
    later stage, or whose stages have ``widths``."""
    return {"channels": tuple(widths or doubling(width, len(STAGES)))}


def reference_resnet(name: str, num_classes: int, in_channels: int, image_size: int, width: int = 64) -> ResNet:
    """The plain timm network a ResNet baseline must equal when nothing is inserted."""
    model = create_model(name, pretrained=False, num_classes=num_classes, in_chans=in_channels, **width_kwargs(width))
    return use_cifar_stem(model) if image_size <= CIFAR_STEM_MAX_SIZE else model


def _register(name: str) -> None:
    block, layers = ARCHITECTURES[name]

    def build(
        task: str,
        num_classes: int,
        in_channels: int,
        image_size: int,
        width: int = 64,
        widths: tuple | None = None,
        pretrained: bool | str = False,
    ) -> SlottedResNet:
        check_build_args(name, task, in_channels, image_size, min_size=MIN_IMAGE_SIZE, size_hint=MIN_SIZE_HINT)
        check_positive_int(name, "width", width, "channels of the first stage: 64 in the paper, 16 for CPU runs")
        check_widths(name, widths, len(STAGES))
        cifar_stem = image_size <= CIFAR_STEM_MAX_SIZE
        model = build_model_with_cfg(
            SlottedResNet,
            name,
            pretrained=False,
            block=block,
            layers=layers,
            num_classes=num_classes,
            in_chans=in_channels,
            cifar_stem=cifar_stem,
            **width_kwargs(width, widths),
        )
        layout = WeightsLayout(head=("fc",), first_conv="conv1", reshaped_stem=cifar_stem)
        return load_pretrained(model, pretrained, name, layout)

    def reference(task: str, num_classes: int, in_channels: int, image_size: int, width: int = 64) -> ResNet:
        return reference_resnet(name, num_classes, in_channels, image_size, width)

    build.__doc__ = (
        f"timm {name}; CIFAR stem when image_size <= {CIFAR_STEM_MAX_SIZE}; "
        "``width``: channels of the first stage (64 in the paper); ``widths``: the four stages' channels; "
        "``pretrained``: a state dict file, or True for timm's weights from the Hugging Face cache."
    )
    BASELINES.register(
        name,
        catalog=CATALOG,
        tasks=("cls",),
        paper="Deep Residual Learning for Image Recognition",
        arxiv="1512.03385",
        reference=f"timm.create_model({name!r}, num_classes=..., in_chans=..., "
        "channels=(width, 2*width, 4*width, 8*width)); "
        f"conv1 -> 3x3 stride-1 conv and maxpool -> Identity when image_size <= {CIFAR_STEM_MAX_SIZE}",
        reference_model=reference,
        smoke=dict(image_size=32, width=16),
        widths=stage_ladder(len(STAGES)),
        weights=LibraryWeights(get_pretrained_cfg(name).hf_hub_id),
    )(build)


for _name in ARCHITECTURES:
    _register(_name)
