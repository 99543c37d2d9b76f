"""Validation metrics on the scales every part of the suite assumes (``suite.metric_catalog`` names each
metric's unit, direction and implementation).

Classification: top-1 ``accuracy`` and ``macro_f1`` in percent (0-100; classes absent from both the
targets and the predictions do not enter the macro average) and the expected calibration error ``ece``
in percent (15 equal-width confidence bins, L1, on the softmax probabilities), all torchmetrics.
Per sample: ``accuracy`` 100 (right) or 0 (wrong).

Segmentation (binary foreground): the prediction is ``sigmoid(logit) >= 0.5``. ``dice`` and ``iou`` of the
foreground are computed per image from that image's TP/FP/FN pixel counts (only pixels inside the
``valid`` region, e.g. DRIVE's field of view, when one is given) and then averaged over images, as
fractions (0-1). Given a ``SurfaceScoring`` (the dataset card's, at the scored size), ``hd95``, ``nsd``
and, as the card asks, ``hd95_mm`` and ``cldice`` too (``suite.train.surface_metrics``), on both masks cut
to the valid region, averaged over images likewise. Empty-mask convention: an image whose target and
prediction are both empty scores Dice = IoU = NSD = clDice = 1 and HD95 = 0; an image with only one of
them empty scores 0 and HD95 = the image diagonal.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor
from torchmetrics import MetricCollection
from torchmetrics.classification import MulticlassAccuracy, MulticlassCalibrationError, MulticlassF1Score
from torchmetrics.functional.classification import binary_stat_scores

from suite.train.surface_metrics import SurfaceScoring, metric_names, surface_scores

METRICS = {"cls": ("accuracy", "macro_f1", "ece"), "seg": ("dice", "iou")}  # every epoch
CALIBRATION_BINS = 15
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


def binary_masks(logits: Tensor, target: Tensor, valid: Tensor | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(prediction, reference) as numpy bool (B, H, W) on the CPU, both cleared outside ``valid``."""
    pred = torch.sigmoid(logits.float()) >= 0.5
    ref = target.bool()
    if valid is not None:
        pred, ref = pred & valid.bool(), ref & valid.bool()
    shape = (logits.shape[0], *logits.shape[-2:])
    return pred.reshape(shape).cpu().numpy(), ref.reshape(shape).cpu().numpy()


class ClassificationScores:
    """Running top-1 accuracy, macro-F1 and ECE (percent) over batches of logits; per sample, right or wrong."""

    def __init__(self, num_classes: int, device: torch.device):
        self.metrics = MetricCollection(
            {
                "accuracy": MulticlassAccuracy(num_classes, average="micro", validate_args=False),
                "macro_f1": MulticlassF1Score(num_classes, average="macro", validate_args=False),
            }
        ).to(device)
        self.calibration = MulticlassCalibrationError(
            num_classes, n_bins=CALIBRATION_BINS, norm="l1", validate_args=False
        ).to(device)
        self.correct: list[Tensor] = []

    def update(self, logits: Tensor, target: Tensor, valid: Tensor | None = None) -> None:
        predicted = logits.argmax(dim=1)
        self.metrics.update(predicted, target)
        self.calibration.update(torch.softmax(logits.float(), dim=1), target)
        self.correct.append(predicted == target)

    def compute(self) -> dict[str, float]:
        scores = {name: 100.0 * float(value) for name, value in self.metrics.compute().items()}
        return scores | {"ece": 100.0 * float(self.calibration.compute())}

    def per_sample(self) -> dict[str, np.ndarray]:
        return {"accuracy": 100.0 * torch.cat(self.correct).double().cpu().numpy()}


class SegmentationScores:
    """Per-image foreground Dice and IoU, and given ``surface`` the boundary metrics, averaged over all
    images seen."""

    def __init__(self, surface: SurfaceScoring | None = None) -> None:
        self.surface = surface
        self.values: dict[str, list[np.ndarray]] = {}

    def _add(self, name: str, values: np.ndarray) -> None:
        self.values.setdefault(name, []).append(values)

    def update(self, logits: Tensor, target: Tensor, valid: Tensor | None = None) -> None:
        dice, iou = per_image_dice_iou(logits, target, valid)
        self._add("dice", dice.cpu().numpy())
        self._add("iou", iou.cpu().numpy())
        if self.surface is not None:
            for name, values in surface_scores(*binary_masks(logits, target, valid), self.surface).items():
                self._add(name, values)

    def per_sample(self) -> dict[str, np.ndarray]:
        return {name: np.concatenate(parts) for name, parts in self.values.items()}

    def compute(self) -> dict[str, float]:
        return {name: float(values.mean()) for name, values in self.per_sample().items()}


def final_metric_names(task: str, surface: SurfaceScoring | None = None) -> tuple[str, ...]:
    """The metrics of a run's last evaluation: the per-epoch ones and, given ``surface``, the boundary metrics."""
    return METRICS[task] + (metric_names(surface) if task == "seg" and surface is not None else ())


def make_scores(
    task: str, num_classes: int, device: torch.device, surface: SurfaceScoring | None = None
) -> ClassificationScores | SegmentationScores:
    """A fresh accumulator of the task's validation metrics (``surface``: segmentation's boundary metrics)."""
    return ClassificationScores(num_classes, device) if task == "cls" else SegmentationScores(surface)
