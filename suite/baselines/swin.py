"""``swin_tiny``: timm's Swin Transformer (Tiny) with named insertion points (task ``cls``).

Paper: Liu et al., "Swin Transformer: Hierarchical Vision Transformer using Shifted Windows",
arXiv:2103.14030. The network is timm's ``SwinTransformer`` with the ``swin_tiny_patch4_window7_224``
widths and depths, built through timm's ``build_model_with_cfg`` and randomly initialised (or with
``pretrained`` weights: a state dict file, or ``True`` for timm's own from the Hugging Face cache, passed
through timm's ``checkpoint_filter_fn``, which resizes the relative position tables to the window;
``suite.baselines._pretrained``), sized for the input: at ``image_size > 64`` the 224 px setting (4 px patches, 7x7 windows); at
``image_size <= 64`` 2 px patches and 4x4 windows, so a 32 px image gives 16/8/4/2 px stage maps
(timm shrinks a window to a map smaller than it).

Points ``stage1`` .. ``stage4`` sit after each stage; timm's stages carry channels-last maps
``(B, H, W, C)``, which modules see as NCHW through the nhwc adapter.

``embed_dim`` (a multiple of 3, the first stage's heads; doubled at each stage) and ``mlp_dims`` (each
stage's MLP hidden width, default 4 x the stage's width) make the network wider; a capacity-matched
control uses them to reach a parameter count.
"""

from __future__ import annotations

import torch
from timm.models import build_model_with_cfg, create_model, get_pretrained_cfg
from timm.models.swin_transformer import SwinTransformer, checkpoint_filter_fn
from torch import nn

from suite.baselines._catalog import PointCatalog
from suite.baselines._checks import check_build_args, check_positive_int
from suite.baselines._layout import NHWC
from suite.baselines._points import PointsMixin
from suite.baselines._pretrained import WeightsLayout, load_pretrained
from suite.baselines._slots import Slot
from suite.baselines._weights_file import LibraryWeights
from suite.baselines._widths import WidthLadder, check_widths, doubling
from suite.errors import SuiteError
from suite.registry import BASELINES

TIMM_NAME = "swin_tiny_patch4_window7_224"
HEADS = (3, 6, 12, 24)
TINY = dict(embed_dim=96, depths=(2, 2, 6, 2), num_heads=HEADS)  # as in timm's entry
MLP_RATIO = 4  # timm's default: each MLP's hidden width is 4 x its stage's width
SMALL_IMAGE_MAX_SIZE = 64  # images up to this size use 2 px patches and 4x4 windows
STAGES = tuple(f"stage{k}" for k in range(1, 5))
WEIGHTS_LAYOUT = WeightsLayout(head=("head.fc",), first_conv="patch_embed.proj", adapt=checkpoint_filter_fn)

CATALOG = PointCatalog(
    kinds={name: ("attention",) for name in STAGES},
    groups={"stages": STAGES},
    defaults={"attention": "stages"},
)


def input_settings(image_size: int) -> dict:
    """img_size, patch_size and window_size of the Swin sized for ``image_size``."""
    small = image_size <= SMALL_IMAGE_MAX_SIZE
    return dict(img_size=image_size, patch_size=2 if small else 4, window_size=4 if small else 7)


class SlottedSwin(PointsMixin, SwinTransformer):
    """timm ``SwinTransformer`` with a slot after every stage."""

    catalog = CATALOG

    def __init__(self, **swin_kwargs):
        super().__init__(**swin_kwargs)
        layout = NHWC()
        self.point_slots = nn.ModuleDict({name: Slot(layout) for name in STAGES})
        for name, info in zip(STAGES, self.feature_info):
            self.declare_point(name, [f"point_slots.{name}"], info["num_chs"], info["reduction"], layout=layout.name)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x)
        for name, stage in zip(STAGES, self.layers):
            x = self.point_slots[name](stage(x))
        return self.norm(x)


def reference_swin(task: str, num_classes: int, in_channels: int, image_size: int) -> SwinTransformer:
    """The plain timm network the ``swin_tiny`` baseline must equal when nothing is inserted."""
    return create_model(
        TIMM_NAME, pretrained=False, num_classes=num_classes, in_chans=in_channels, **input_settings(image_size)
    )


def mlp_ratios(embed_dim: int, mlp_dims: tuple | None) -> float | tuple[float, ...]:
    """timm's ``mlp_ratio`` (one per stage) for MLPs of ``mlp_dims`` hidden units (timm takes ``int(dim * ratio)``)."""
    if mlp_dims is None:
        return MLP_RATIO
    return tuple((hidden + 0.5) / width for hidden, width in zip(mlp_dims, doubling(embed_dim, len(STAGES))))


def _read_widths(kwargs: dict) -> tuple[int, ...]:
    widths = doubling(kwargs["embed_dim"], len(STAGES))
    return (kwargs["embed_dim"], *(kwargs["mlp_dims"] or tuple(MLP_RATIO * w for w in widths)))


def _write_widths(coords: tuple[int, ...]) -> dict:
    plain = _read_widths({"embed_dim": coords[0], "mlp_dims": None})
    return {"embed_dim": coords[0]} if coords == plain else {"embed_dim": coords[0], "mlp_dims": tuple(coords[1:])}


@BASELINES.register(
    "swin_tiny",
    catalog=CATALOG,
    tasks=("cls",),
    paper="Swin Transformer: Hierarchical Vision Transformer using Shifted Windows",
    arxiv="2103.14030",
    reference=f"timm.create_model({TIMM_NAME!r}, img_size=image_size, num_classes=..., in_chans=...), "
    f"patch_size=2 and window_size=4 when image_size <= {SMALL_IMAGE_MAX_SIZE}",
    reference_model=reference_swin,
    smoke=dict(image_size=32),
    widths=WidthLadder(multiples=(HEADS[0], 1, 1, 1, 1), fine_order=(4, 3, 2, 1), read=_read_widths, write=_write_widths),
    weights=LibraryWeights(get_pretrained_cfg(TIMM_NAME).hf_hub_id),
)
def swin_tiny(
    task: str,
    num_classes: int,
    in_channels: int,
    image_size: int,
    embed_dim: int = TINY["embed_dim"],
    mlp_dims: tuple | None = None,
    pretrained: bool | str = False,
) -> SlottedSwin:
    """Swin-T sized for the input: 2 px patches and 4x4 windows up to 64 px, else 4 px and 7x7;
    ``embed_dim``: the first stage's width (96); ``mlp_dims``: each stage's MLP hidden width;
    ``pretrained``: a state dict file, or True for timm's weights from the Hugging Face cache."""
    settings = input_settings(image_size)
    multiple = settings["patch_size"] * 8
    check_build_args("swin_tiny", task, in_channels, image_size, multiple, "patches, then three 2x patch merges")
    check_positive_int("swin_tiny", "embed_dim", embed_dim, "the first stage's width, 96 in the paper")
    if embed_dim % HEADS[0]:
        raise SuiteError(f"swin_tiny embed_dim must be a multiple of {HEADS[0]} (the first stage's heads), got {embed_dim}")
    check_widths("swin_tiny", mlp_dims, len(STAGES))
    model = build_model_with_cfg(
        SlottedSwin,
        TIMM_NAME,
        pretrained=False,
        num_classes=num_classes,
        in_chans=in_channels,
        **{**TINY, "embed_dim": embed_dim},
        mlp_ratio=mlp_ratios(embed_dim, mlp_dims),
        **settings,
    )
    return load_pretrained(model, pretrained, "swin_tiny", WEIGHTS_LAYOUT)
