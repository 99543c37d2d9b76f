"""One epoch of training and one pass of evaluation, in the shape of torchvision's classification reference.

A batch is ``(x, y)`` or ``(x, y, valid)``: ``x`` float NCHW, ``y`` int64 (B,) class indices or float
(B,1,H,W) masks, ``valid`` bool (B,1,H,W) pixels that count (None or absent: all).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import torch
from torch import Tensor, nn
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler

from suite.train.losses import LossFn
from suite.train.metrics import make_scores
from suite.train.surface_metrics import SurfaceScoring


class NonFiniteLoss(RuntimeError):
    """The training loss became NaN or infinite; ``epoch`` and ``step`` count from 1."""

    def __init__(self, epoch: int, step: int, value: float):
        self.epoch, self.step, self.value = epoch, step, value
        super().__init__(f"non-finite loss at epoch {epoch} step {step} ({value})")


def _unpack(
    batch: Sequence[Tensor | None], device: torch.device, memory_format: torch.memory_format
) -> tuple[Tensor, Tensor, Tensor | None]:
    x, y, *rest = batch
    valid = rest[0] if rest else None
    x = x.to(device, non_blocking=True, memory_format=memory_format)
    y = y.to(device, non_blocking=True)
    return x, y, None if valid is None else valid.to(device, non_blocking=True)


def train_one_epoch(
    model: nn.Module,
    optimizer: Optimizer,
    scheduler: LRScheduler | None,
    loss_fn: LossFn,
    batches: Iterable[Sequence[Tensor]],
    device: torch.device,
    amp_dtype: torch.dtype | None = None,
    grad_clip: float | None = None,
    *,
    epoch: int = 1,
    memory_format: torch.memory_format = torch.contiguous_format,
) -> dict[str, float]:
    """Train over ``batches`` once; returns ``{"loss": mean training loss per sample}``.

    ``amp_dtype``: autocast dtype (None: full precision). The scheduler steps after every optimizer
    step. Losses stay on the device until the epoch ends (no per-step synchronization); a non-finite
    one then raises ``NonFiniteLoss`` naming the first bad step.
    """
    model.train()
    losses: list[Tensor] = []
    sizes: list[int] = []
    for x, y, valid in (_unpack(batch, device, memory_format) for batch in batches):
        with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
            loss = loss_fn(model(x), y, valid)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if grad_clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        losses.append(loss.detach())
        sizes.append(x.shape[0])
    if not losses:
        raise ValueError("train_one_epoch got no batches; the training split is smaller than one batch")
    step_losses = torch.stack(losses).double().cpu()
    finite = torch.isfinite(step_losses)
    if not finite.all():
        step = int((~finite).nonzero()[0])
        raise NonFiniteLoss(epoch, step + 1, float(step_losses[step]))
    weights = torch.tensor(sizes, dtype=torch.float64)
    return {"loss": float((step_losses * weights).sum() / weights.sum())}


@dataclass
class Evaluation:
    """What one pass over a split gave: the metrics (and ``loss``) and each sample's values, in batch order."""

    metrics: dict[str, float]
    per_sample: dict[str, np.ndarray]  # metric -> one value per sample (accuracy: 100 right, 0 wrong)


def evaluate(
    model: nn.Module,
    batches: Iterable[Sequence[Tensor]],
    task: str,
    device: torch.device,
    *,
    num_classes: int = 1,
    loss_fn: LossFn | None = None,
    amp_dtype: torch.dtype | None = None,
    memory_format: torch.memory_format = torch.contiguous_format,
) -> dict[str, float]:
    """The task's per-epoch metrics over ``batches`` (see ``suite.train.metrics``) and, given ``loss_fn``,
    ``loss``: the mean per sample, weighted by batch size."""
    return evaluate_in_detail(
        model, batches, task, device, num_classes=num_classes, loss_fn=loss_fn, amp_dtype=amp_dtype,
        memory_format=memory_format,
    ).metrics  # fmt: skip


@torch.inference_mode()
def evaluate_in_detail(
    model: nn.Module,
    batches: Iterable[Sequence[Tensor]],
    task: str,
    device: torch.device,
    *,
    num_classes: int = 1,
    loss_fn: LossFn | None = None,
    amp_dtype: torch.dtype | None = None,
    memory_format: torch.memory_format = torch.contiguous_format,
    surface: SurfaceScoring | None = None,
) -> Evaluation:
    """``evaluate``, plus each sample's values and, for segmentation given ``surface``, the boundary
    metrics (HD95, NSD, and as the card asks HD95 in mm and clDice), which cost too much to score every epoch."""
    model.eval()
    scores = make_scores(task, num_classes, device, surface)
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    seen = 0
    for x, y, valid in (_unpack(batch, device, memory_format) for batch in batches):
        with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
            logits = model(x)
        logits = logits.float()
        if loss_fn is not None:
            loss_sum += loss_fn(logits, y, valid).double() * x.shape[0]
        scores.update(logits, y, valid)
        seen += x.shape[0]
    if seen == 0:
        raise ValueError("evaluate got no batches")
    results = scores.compute()
    if loss_fn is not None:
        results = {"loss": float(loss_sum) / seen, **results}
    return Evaluation(results, scores.per_sample())
