"""Training losses with one call shape, ``loss_fn(logits, target, valid=None) -> scalar``.

- ``ce``: cross-entropy with label smoothing (classification; ``target`` int64 (B,)).
- ``dice_bce``: binary cross-entropy on the logit plus soft Dice on ``sigmoid(logit)``, equal weights
  (segmentation; ``target`` float (B,1,H,W) in {0,1}). Both terms count only pixels inside ``valid``
  when given. Soft Dice is computed per image with smoothing 1 and averaged over the batch.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from suite.errors import SuiteError

LossFn = Callable[..., Tensor]


class CrossEntropy(nn.Module):
    """``nn.CrossEntropyLoss`` that accepts (and ignores) a ``valid`` argument."""

    def __init__(self, label_smoothing: float = 0.0):
        super().__init__()
        self.loss = nn.CrossEntropyLoss(label_smoothing=label_smoothing)

    def forward(self, logits: Tensor, target: Tensor, valid: Tensor | None = None) -> Tensor:
        return self.loss(logits.float(), target)


class DiceBCE(nn.Module):
    """BCE-with-logits + (1 - soft Dice), restricted to the valid region."""

    def __init__(self, smooth: float = 1.0):
        super().__init__()
        self.smooth = smooth

    def forward(self, logits: Tensor, target: Tensor, valid: Tensor | None = None) -> Tensor:
        logits = logits.float()
        target = target.float().reshape(logits.shape)
        weight = torch.ones_like(logits) if valid is None else valid.float().reshape(logits.shape)
        pixels = weight.sum().clamp_min(1.0)
        bce = (F.binary_cross_entropy_with_logits(logits, target, reduction="none") * weight).sum() / pixels
        probs = torch.sigmoid(logits) * weight
        dims = tuple(range(1, logits.ndim))
        overlap = (probs * target).sum(dims)
        total = probs.sum(dims) + (target * weight).sum(dims)
        dice = (2 * overlap + self.smooth) / (total + self.smooth)
        return bce + (1 - dice).mean()


def make_loss(name: str, label_smoothing: float = 0.0) -> nn.Module:
    """The loss a recipe names: ``ce`` or ``dice_bce``."""
    if name == "ce":
        return CrossEntropy(label_smoothing)
    if name == "dice_bce":
        return DiceBCE()
    raise SuiteError(f"unknown loss {name!r}; losses: ce, dice_bce")
