"""``Slot``: a named insertion point inside a baseline, identity until a module is placed in it.

A slot holds the modules placed at its point, each with its mode, and applies them in order:

- ``after``: x -> m(x);
- ``residual``: x -> x + m(x);
- ``replace`` (fusion modules at a U-Net skip point): skip -> m(decoder, skip), the merged tensor
  takes the place of the plain skip before concatenation.

Tensors pass through the point's layout adapter, so every module sees NCHW. An empty slot returns
its input untouched and has no parameters, buffers or state_dict entries: the plain network stays
bit-for-bit the library's network.
"""

from __future__ import annotations

import torch
from torch import nn

from suite.baselines._layout import NCHW, Layout
from suite.kinds import SLOT_MODES


class Slot(nn.Module):
    """An insertion point: the modules placed here (``inserted``) and their modes, applied in order."""

    def __init__(self, layout: Layout = NCHW()):
        super().__init__()
        self.layout = layout
        self.inserted = nn.ModuleList()
        self.modes: list[str] = []

    @property
    def filled(self) -> bool:
        return len(self.inserted) > 0

    def fill(self, module: nn.Module, mode: str) -> None:
        """Place ``module`` after those already here; ``mode`` is one of ``SLOT_MODES``."""
        if mode not in SLOT_MODES:
            raise ValueError(f"slot mode must be one of {', '.join(SLOT_MODES)}, got {mode!r}")
        self.inserted.append(module)
        self.modes.append(mode)

    def forward(self, x: torch.Tensor, decoder: torch.Tensor | None = None) -> torch.Tensor:
        """Apply the placed modules to ``x``; ``decoder``: the decoder tensor at a skip point."""
        if not self.inserted:
            return x
        features, kept = self.layout.to_nchw(x)
        for module, mode in zip(self.inserted, self.modes):
            if mode == "after":
                features = module(features)
            elif mode == "residual":
                features = features + module(features)
            else:
                features = module(decoder, features)
        return self.layout.restore(features, kept)

    def extra_repr(self) -> str:
        placed = ", ".join(f"{type(m).__name__}:{mode}" for m, mode in zip(self.inserted, self.modes))
        return f"layout={self.layout.name}" + (f", {placed}" if placed else ", empty")
