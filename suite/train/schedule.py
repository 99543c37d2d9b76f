"""Optimizer and learning-rate schedule: linear warm-up, then cosine decay to 0, stepped per iteration.

The optimizer comes from ``timm.optim.create_optimizer_v2`` (AdamW, or SGD with Nesterov momentum).
Its parameter groups split the network twice: the backbone against the inserted modules (the
parameters ``suite.build`` placed, gates included), and, within each, timm's weight-decay split
(``param_groups_weight_decay``: biases, normalization weights and the model's ``no_weight_decay()``
names get none). The inserted groups start at ``lr * module_lr_mult`` and warm up on their own over
``module_warmup_epochs``, on top of the recipe's warm-up and cosine decay. A baseline has no inserted
parameters, so its groups are timm's two.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import partial

from timm.optim import create_optimizer_v2, param_groups_weight_decay
from torch import nn
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR

from suite.recipe import Recipe

BACKBONE, INSERTED = "backbone", "inserted"  # the ``part`` of each parameter group


def parameter_groups(model: nn.Module, recipe: Recipe, inserted: Iterable[nn.Parameter] = ()) -> list[dict]:
    """timm's weight-decay groups, each split into the backbone's and the inserted modules' parameters;
    every group names its ``part`` and carries its peak ``lr``; empty groups are left out."""
    new = {id(p) for p in inserted}
    no_decay = getattr(model, "no_weight_decay", lambda: set())()
    groups = []
    for group in param_groups_weight_decay(model, recipe.weight_decay, no_weight_decay_list=no_decay):
        for part, lr in ((BACKBONE, recipe.lr), (INSERTED, recipe.lr * recipe.module_lr_mult)):
            params = [p for p in group["params"] if (id(p) in new) == (part == INSERTED)]
            if params:
                groups.append({**group, "params": params, "part": part, "lr": lr})
    return groups


def make_optimizer(model: nn.Module, recipe: Recipe, inserted: Iterable[nn.Parameter] = ()) -> Optimizer:
    """The recipe's optimizer at its peak learning rates (the schedule scales them); ``inserted``: the
    parameters of the modules placed in the baseline (``BuiltVariant.inserted_parameters()``)."""
    extra = {"momentum": recipe.momentum} if recipe.optimizer == "sgd" else {}
    inserted = list(inserted)
    return create_optimizer_v2(
        model,
        opt=recipe.optimizer,
        lr=recipe.lr,
        weight_decay=recipe.weight_decay,
        param_group_fn=lambda m: parameter_groups(m, recipe, inserted),
        **extra,
    )


def warmup_cosine_factor(step: int, warmup_steps: int, total_steps: int) -> float:
    """Multiplier of the peak lr at optimizer step ``step`` (0-based), applied before that step."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    decay_steps = max(total_steps - warmup_steps, 1)
    progress = min((step - warmup_steps) / decay_steps, 1.0)
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def module_factor(step: int, warmup_steps: int, total_steps: int, module_warmup_steps: int) -> float:
    """The inserted modules' multiplier: the recipe's warm-up and cosine, times their own linear warm-up."""
    own = (step + 1) / module_warmup_steps if step < module_warmup_steps else 1.0
    return own * warmup_cosine_factor(step, warmup_steps, total_steps)


def make_scheduler(optimizer: Optimizer, recipe: Recipe, steps_per_epoch: int) -> LambdaLR:
    """Per-iteration schedule over ``recipe.epochs * steps_per_epoch`` steps; call ``.step()`` after each."""
    total_steps = recipe.epochs * steps_per_epoch
    warmup_steps = min(round(recipe.warmup_epochs * steps_per_epoch), total_steps)
    module_warmup_steps = min(round(recipe.module_warmup_epochs * steps_per_epoch), total_steps)
    backbone = partial(warmup_cosine_factor, warmup_steps=warmup_steps, total_steps=total_steps)
    module = partial(
        module_factor, warmup_steps=warmup_steps, total_steps=total_steps, module_warmup_steps=module_warmup_steps
    )
    return LambdaLR(optimizer, [module if g.get("part") == INSERTED else backbone for g in optimizer.param_groups])
