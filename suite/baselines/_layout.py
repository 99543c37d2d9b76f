"""Layout adapters: show a plug-in module the NCHW tensor it expects at any insertion point.

Modules are written for ``(B, C, H, W)``. ViT blocks carry tokens ``(B, N, C)`` with class (prefix)
tokens in front of the patch tokens; Swin stages carry ``(B, H, W, C)``. An adapter splits what the
module must not touch (the prefix tokens), hands over NCHW features and puts the result back in the
point's own layout. Adapters hold no state besides the shape facts they need.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class NCHW:
    """Convolutional feature maps: nothing to convert."""

    name = "nchw"

    def to_nchw(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        return x, None

    def restore(self, features: torch.Tensor, kept: None) -> torch.Tensor:
        return features


@dataclass(frozen=True)
class NHWC:
    """Channels-last maps (timm's Swin stages): permute to NCHW and back."""

    name = "nhwc"

    def to_nchw(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        return x.permute(0, 3, 1, 2), None

    def restore(self, features: torch.Tensor, kept: None) -> torch.Tensor:
        # Swin's window partition reshapes with ``view``, which needs contiguous memory.
        return features.permute(0, 2, 3, 1).contiguous()


@dataclass(frozen=True)
class Tokens:
    """Token sequences ``(B, prefix + H*W, C)``: patch tokens become a ``(B, C, H, W)`` map.

    The ``prefix`` tokens (class token, register tokens) bypass the module and are put back in front
    unchanged, in every mode: a residual module adds to the patch tokens only.
    """

    grid: tuple[int, int]  # patch grid (rows, columns)
    prefix: int  # number of class / register tokens in front of the patch tokens

    name = "tokens"

    def to_nchw(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        prefix_tokens, patches = x[:, : self.prefix], x[:, self.prefix :]
        batch, _, channels = patches.shape
        return patches.transpose(1, 2).reshape(batch, channels, *self.grid), prefix_tokens

    def restore(self, features: torch.Tensor, kept: torch.Tensor) -> torch.Tensor:
        return torch.cat([kept, features.flatten(2).transpose(1, 2)], dim=1)


Layout = NCHW | NHWC | Tokens
