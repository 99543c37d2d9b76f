"""Validation metrics, computed with torchmetrics, on the scales every part of the suite assumes.

Classification: top-1 ``accuracy`` and ``macro_f1`` in percent (0-100); classes absent from both the
targets and the predictions do not enter the macro average.

Segmentation (binary foreground): the prediction is ``sigmoid(logit) >= 0.5``. ``dice`` and ``iou`` of the
foreground are computed per image from that image's TP/FP/FN pixel counts (only pixels inside the
``valid`` region, e.g. DRIVE's field of view, when one is given) and then averaged over images, as
fractions (0-1). Empty-mask convention: an image whose target and prediction are both empty scores
Dice = IoU = 1; an image with an empty target but a non-empty prediction (or the reverse) scores 0.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torchmetrics import MetricCollection
from torchmetrics.classification import MulticlassAccuracy, MulticlassF1Score
from torchmetrics.functional.classification import binary_stat_scores

METRICS = {"cls": ("accuracy", "macro_f1"), "seg": ("dice", "iou")}
_IGNORE = -1  # target value of pixels outside the valid region


def per_image_dice_iou(logits: Tensor, target: Tensor, valid: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """Foreground Dice and IoU of each image, shape (B,) each, fractions 0-1.

    ``logits``: (B,1,H,W) or (B,H,W) raw outputs; ``target``: same shape, {0,1}; ``valid``: same shape,
    bool or {0,1}, pixels to score (None: all).
    """
    probs = torch.sigmoid(logits.float()).reshape(logits.shape[0], -1)
    target = target.reshape(target.shape[0], -1).long()
    if valid is not None:
        target = target.masked_fill(~valid.reshape(valid.shape[0], -1).bool(), _IGNORE)
    count = probs.shape[0]
    if count == 1:  # torchmetrics squeezes the counts of a batch of one to scalars in samplewise mode
        probs, target = probs.repeat(2, 1), target.repeat(2, 1)
    stats = binary_stat_scores(
        probs, target, threshold=0.5, multidim_average="samplewise", ignore_index=_IGNORE, validate_args=False
    )[:count]
    tp, fp, fn = stats[:, 0].double(), stats[:, 1].double(), stats[:, 3].double()
    errors_and_hits = tp + fp + fn
    both_empty = errors_and_hits == 0
    dice = torch.where(both_empty, 1.0, 2 * tp / (2 * tp + fp + fn).clamp_min(1))
    iou = torch.where(both_empty, 1.0, tp / errors_and_hits.clamp_min(1))
    return dice, iou


class ClassificationScores:
    """Running top-1 accuracy and macro-F1 (percent) over batches of logits."""

    def __init__(self, num_classes: int, device: torch.device):
        self.metrics = MetricCollection(
            {
                "accuracy": MulticlassAccuracy(num_classes, average="micro", validate_args=False),
                "macro_f1": MulticlassF1Score(num_classes, average="macro", validate_args=False),
            }
        ).to(device)

    def update(self, logits: Tensor, target: Tensor, valid: Tensor | None = None) -> None:
        self.metrics.update(logits.argmax(dim=1), target)

    def compute(self) -> dict[str, float]:
        return {name: 100.0 * float(value) for name, value in self.metrics.compute().items()}


class SegmentationScores:
    """Per-image foreground Dice and IoU, averaged over all images seen (fractions 0-1)."""

    def __init__(self) -> None:
        self.dice: list[Tensor] = []
        self.iou: list[Tensor] = []

    def update(self, logits: Tensor, target: Tensor, valid: Tensor | None = None) -> None:
        dice, iou = per_image_dice_iou(logits, target, valid)
        self.dice.append(dice)
        self.iou.append(iou)

    def compute(self) -> dict[str, float]:
        return {"dice": float(torch.cat(self.dice).mean()), "iou": float(torch.cat(self.iou).mean())}


def make_scores(task: str, num_classes: int, device: torch.device) -> ClassificationScores | SegmentationScores:
    """A fresh accumulator of the task's validation metrics."""
    return ClassificationScores(num_classes, device) if task == "cls" else SegmentationScores()
