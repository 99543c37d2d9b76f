"""Optimizer and learning-rate schedule: linear warm-up, then cosine decay to 0, stepped per iteration.

The optimizer comes from ``timm.optim.create_optimizer_v2`` (AdamW, or SGD with Nesterov momentum),
which leaves biases and normalization weights out of weight decay.
"""

from __future__ import annotations

import math
from functools import partial

from timm.optim import create_optimizer_v2
from torch import nn
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR

from suite.recipe import Recipe


def make_optimizer(model: nn.Module, recipe: Recipe) -> Optimizer:
    """The recipe's optimizer at its peak learning rate (the schedule scales it)."""
    extra = {"momentum": recipe.momentum} if recipe.optimizer == "sgd" else {}
    return create_optimizer_v2(
        model, opt=recipe.optimizer, lr=recipe.lr, weight_decay=recipe.weight_decay, **extra
    )


def warmup_cosine_factor(step: int, warmup_steps: int, total_steps: int) -> float:
    """Multiplier of the peak lr at optimizer step ``step`` (0-based), applied before that step."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    decay_steps = max(total_steps - warmup_steps, 1)
    progress = min((step - warmup_steps) / decay_steps, 1.0)
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def make_scheduler(optimizer: Optimizer, recipe: Recipe, steps_per_epoch: int) -> LambdaLR:
    """Per-iteration schedule over ``recipe.epochs * steps_per_epoch`` steps; call ``.step()`` after each."""
    total_steps = recipe.epochs * steps_per_epoch
    warmup_steps = min(round(recipe.warmup_epochs * steps_per_epoch), total_steps)
    factor = partial(warmup_cosine_factor, warmup_steps=warmup_steps, total_steps=total_steps)
    return LambdaLR(optimizer, factor)
