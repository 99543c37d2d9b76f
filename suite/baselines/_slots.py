"""``Slot``: a named insertion point inside a baseline, identity until a module is placed in it.

A slot holds the modules placed at its point, each with its mode, and applies them in order:

- ``after``: x -> m(x);
- ``residual``: x -> x + m(x);
- ``replace`` (fusion modules at a U-Net skip point): skip -> m(decoder, skip), the merged tensor
  takes the place of the plain skip before concatenation;
- ``gated``, ``gated_residual``: the module is placed inside a ``Gate``, which applies the form it
  gates (``suite.kinds.ungated_form``) and mixes it in through a per-channel gate ``g`` that starts at 0:
  x -> x + g * (y - x), with y the gated form's output (for the residual form: x + g * m(x)).

Tensors pass through the point's layout adapter, so every module sees NCHW. An empty slot returns
its input untouched and has no parameters, buffers or state_dict entries: the plain network stays
bit-for-bit the library's network.
"""

from __future__ import annotations

import torch
from torch import nn

from suite.baselines._layout import NCHW, Layout
from suite.kinds import GATED, SLOT_MODES


def apply_form(module: nn.Module, form: str, x: torch.Tensor, decoder: torch.Tensor | None) -> torch.Tensor:
    """The output of ``module`` placed on ``x`` in an ungated ``form`` (after, residual or replace)."""
    if form == "after":
        return module(x)
    if form == "residual":
        return x + module(x)
    return module(decoder, x)


class Gate(nn.Module):
    """``module`` in ``form``, mixed in through a learned per-channel gate that starts at 0.

    ``x + gate * (y - x)`` where ``y`` is the form's output; for the residual form ``x + gate * m(x)``
    (the same value, computed without the round trip through ``x + m(x)``). At initialisation the gate
    is 0 and the output is ``x`` itself, bit for bit, whatever the module computes.
    """

    def __init__(self, module: nn.Module, channels: int, form: str):
        super().__init__()
        self.module = module
        self.form = form
        self.gate = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor, decoder: torch.Tensor | None = None) -> torch.Tensor:
        gate = self.gate.view(1, -1, 1, 1).to(x.dtype)
        if self.form == "residual":
            return x + gate * self.module(x)
        return x + gate * (apply_form(self.module, self.form, x, decoder) - x)

    def extra_repr(self) -> str:
        return f"form={self.form}, channels={self.gate.numel()}"


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
        """Place ``module`` after those already here; ``mode`` is one of ``SLOT_MODES`` (a gated mode
        takes a ``Gate``)."""
        if mode not in SLOT_MODES:
            raise ValueError(f"slot mode must be one of {', '.join(SLOT_MODES)}, got {mode!r}")
        if (mode in GATED) != isinstance(module, Gate):
            raise ValueError(f"mode {mode!r} {'needs' if mode in GATED else 'takes no'} Gate")
        self.inserted.append(module)
        self.modes.append(mode)

    def forward(self, x: torch.Tensor, decoder: torch.Tensor | None = None) -> torch.Tensor:
        """Apply the placed modules to ``x``; ``decoder``: the decoder tensor at a skip point."""
        if not self.inserted:
            return x
        features, kept = self.layout.to_nchw(x)
        for module, mode in zip(self.inserted, self.modes):
            features = module(features, decoder) if mode in GATED else apply_form(module, mode, features, decoder)
        return self.layout.restore(features, kept)

    def extra_repr(self) -> str:
        placed = ", ".join(f"{type(m).__name__}:{mode}" for m, mode in zip(self.inserted, self.modes))
        return f"layout={self.layout.name}" + (f", {placed}" if placed else ", empty")
