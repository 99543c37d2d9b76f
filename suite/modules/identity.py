"""The placebo: an attention-kind module that adds nothing and changes nothing (kind: attention).

Paper: none; it is the control of ``suite calibrate`` (reference: "placebo control, suite calibrate").
``unet+identity`` goes through every step a real variant goes through (spec, build, grid, verdict) with
a network that computes exactly what the baseline computes, so any "holds" it gets is the harness's,
not a module's. No parameters, no arguments; ``nn.Identity``.
"""

from __future__ import annotations

from torch import nn

from suite.modules._builder import with_hparams
from suite.registry import MODULES


@MODULES.register(
    "identity",
    kind="attention",
    paper="placebo control",
    arxiv=None,
    reference="placebo control, suite calibrate",
)
def identity(channels: int) -> nn.Module:
    return with_hparams(nn.Identity())
