"""Effective Squeeze-and-Excitation, eSE (kind: attention).

Paper: Lee and Park, "CenterMask: Real-Time Anchor-Free Instance Segmentation", arXiv:1911.06667
(the eSE block of VoVNetV2). Wraps ``timm.layers.EffectiveSEModule``: global average pooling, one
full-width 1x1 conv (no channel reduction, so nothing scales with width beyond the conv itself) and a
hard-sigmoid gate. Ours adds the choice of gate (``gate=sigmoid`` gives a reduction-free SE).
"""

from __future__ import annotations

from timm.layers import EffectiveSEModule
from torch import nn

from suite.modules._builder import with_hparams
from suite.modules._checks import one_of
from suite.registry import MODULES

GATES = ("hard_sigmoid", "sigmoid")


@MODULES.register(
    "ese",
    kind="attention",
    paper="CenterMask: Real-Time Anchor-Free Instance Segmentation",
    arxiv="1911.06667",
)
def ese(channels: int, gate: str = "hard_sigmoid") -> nn.Module:
    one_of("ese", "gate", gate, GATES)
    return with_hparams(EffectiveSEModule(channels, gate_layer=gate), gate=gate)
