"""``vit_tiny``, ``vit_small``: timm's Vision Transformers with named insertion points (task ``cls``).

Paper: Dosovitskiy et al., "An Image is Worth 16x16 Words: Transformers for Image Recognition at
Scale", arXiv:2010.11929; the Tiny and Small sizes are DeiT's (arXiv:2012.12877). The networks are
timm's ``VisionTransformer`` with the ``vit_tiny_patch16_224`` / ``vit_small_patch16_224`` settings,
built through timm's ``build_model_with_cfg`` and randomly initialised, or with ``pretrained`` weights
(a state dict file, or ``True`` for timm's own from the Hugging Face cache) passed through timm's
``checkpoint_filter_fn``, which resamples the patch and position embeddings to this input size
(``suite.baselines._pretrained``). ``img_size`` is the input
size; the patch is 16 px, or 4 px when ``image_size <= 64`` so that a 32 px image still gives an 8x8
grid of tokens. ``embed_dim`` (a multiple of the heads) and ``mlp_dim`` (the MLP's hidden width, default
4 x ``embed_dim``) make the network wider; a capacity-matched control uses them to reach a parameter count.

Points ``block0`` .. ``block10`` sit after each transformer block but the last. The tokens there are
``(B, 1 + H*W, C)``; modules see the patch tokens as a ``(B, C, H, W)`` map through the tokens
adapter, and the class token passes by untouched. After the last block (block 11) only the class
token reaches the head (timm's ``global_pool="token"``), so a module on the patch tokens there could
never change the output; that position is deliberately not a point.
"""

from __future__ import annotations

import torch
from timm.models import build_model_with_cfg, create_model, get_pretrained_cfg
from timm.models.vision_transformer import VisionTransformer, checkpoint_filter_fn
from torch import nn

from suite.baselines._catalog import PointCatalog
from suite.baselines._checks import check_build_args, check_positive_int
from suite.baselines._layout import Tokens
from suite.baselines._points import PointsMixin
from suite.baselines._pretrained import WeightsLayout, load_pretrained
from suite.baselines._slots import Slot
from suite.baselines._weights_file import LibraryWeights
from suite.baselines._widths import WidthLadder
from suite.errors import SuiteError
from suite.registry import BASELINES

DEPTH = 12
MLP_RATIO = 4  # timm's default: the MLP's hidden width is 4 x embed_dim
# baseline -> (timm entry, embedding width, attention heads), as in timm's entries.
SIZES = {
    "vit_tiny": ("vit_tiny_patch16_224", 192, 3),
    "vit_small": ("vit_small_patch16_224", 384, 6),
}
SMALL_IMAGE_MAX_SIZE = 64  # images up to this size use 4 px patches instead of 16 px
# After block DEPTH-1 the patch tokens no longer reach the class-token head: no point there.
BLOCKS = tuple(f"block{i}" for i in range(DEPTH - 1))
WEIGHTS_LAYOUT = WeightsLayout(head=("head",), first_conv="patch_embed.proj", adapt=checkpoint_filter_fn)

CATALOG = PointCatalog(
    kinds={name: ("attention",) for name in BLOCKS},
    groups={"blocks": BLOCKS},
    defaults={"attention": "blocks"},
)


def patch_size_for(image_size: int) -> int:
    return 4 if image_size <= SMALL_IMAGE_MAX_SIZE else 16


class SlottedViT(PointsMixin, VisionTransformer):
    """timm ``VisionTransformer`` with a slot after every transformer block."""

    catalog = CATALOG

    def __init__(self, **vit_kwargs):
        super().__init__(**vit_kwargs)
        layout = Tokens(grid=tuple(self.patch_embed.grid_size), prefix=self.num_prefix_tokens)
        self.point_slots = nn.ModuleDict({name: Slot(layout) for name in BLOCKS})
        patch = self.patch_embed.patch_size[0]
        for name in BLOCKS:
            self.declare_point(name, [f"point_slots.{name}"], self.embed_dim, patch, layout=layout.name)

    def forward_features(
        self, x: torch.Tensor, attn_mask: torch.Tensor | None = None, is_causal: bool = False
    ) -> torch.Tensor:
        x = self.norm_pre(self.patch_drop(self._pos_embed(self.patch_embed(x))))
        for index, block in enumerate(self.blocks):
            x = block(x, attn_mask=attn_mask, is_causal=is_causal)
            if index < len(BLOCKS):
                x = self.point_slots[BLOCKS[index]](x)
        return self.norm(x)


def mlp_ratio(embed_dim: int, mlp_dim: int | None) -> float:
    """timm's ``mlp_ratio`` for an MLP of ``mlp_dim`` hidden units (timm takes ``int(embed_dim * ratio)``)."""
    return MLP_RATIO if mlp_dim is None else (mlp_dim + 0.5) / embed_dim


def _check_widths(name: str, embed_dim: int, heads: int, mlp_dim: int | None) -> None:
    check_positive_int(name, "embed_dim", embed_dim, f"token width, a multiple of the {heads} heads")
    if embed_dim % heads:
        raise SuiteError(f"{name} embed_dim must be a multiple of its {heads} attention heads, got {embed_dim}")
    if mlp_dim is not None:
        check_positive_int(name, "mlp_dim", mlp_dim, f"the MLP's hidden width, default {MLP_RATIO} x embed_dim")


def _register(name: str) -> None:
    timm_name, embed_dim, heads = SIZES[name]

    def settings(num_classes: int, in_channels: int, image_size: int) -> dict:
        return dict(
            img_size=image_size,
            patch_size=patch_size_for(image_size),
            num_classes=num_classes,
            in_chans=in_channels,
        )

    def build(
        task: str,
        num_classes: int,
        in_channels: int,
        image_size: int,
        embed_dim: int = embed_dim,
        mlp_dim: int | None = None,
        pretrained: bool | str = False,
    ) -> SlottedViT:
        patch = patch_size_for(image_size)
        check_build_args(name, task, in_channels, image_size, patch, f"{patch} px patches at this size")
        _check_widths(name, embed_dim, heads, mlp_dim)
        model = build_model_with_cfg(
            SlottedViT,
            timm_name,
            pretrained=False,
            embed_dim=embed_dim,
            depth=DEPTH,
            num_heads=heads,
            mlp_ratio=mlp_ratio(embed_dim, mlp_dim),
            **settings(num_classes, in_channels, image_size),
        )
        return load_pretrained(model, pretrained, name, WEIGHTS_LAYOUT)

    def reference(task: str, num_classes: int, in_channels: int, image_size: int) -> VisionTransformer:
        return create_model(timm_name, pretrained=False, **settings(num_classes, in_channels, image_size))

    build.__doc__ = (
        f"timm {timm_name} at img_size=image_size; 4 px patches when image_size <= {SMALL_IMAGE_MAX_SIZE}; "
        "``pretrained``: a state dict file, or True for timm's weights from the Hugging Face cache."
    )
    BASELINES.register(
        name,
        catalog=CATALOG,
        tasks=("cls",),
        paper="An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale",
        arxiv="2010.11929",
        reference=f"timm.create_model({timm_name!r}, img_size=image_size, "
        f"patch_size=4 if image_size <= {SMALL_IMAGE_MAX_SIZE} else 16, num_classes=..., in_chans=...)",
        reference_model=reference,
        smoke=dict(image_size=32),
        widths=WidthLadder(
            multiples=(heads, 1),
            fine_order=(1,),
            read=lambda kwargs: (kwargs["embed_dim"], kwargs["mlp_dim"] or MLP_RATIO * kwargs["embed_dim"]),
            write=lambda coords: {"embed_dim": coords[0], "mlp_dim": coords[1]},
        ),
        weights=LibraryWeights(get_pretrained_cfg(timm_name).hf_hub_id),
    )(build)


for _name in SIZES:
    _register(_name)
