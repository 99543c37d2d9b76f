"""The optimizer's parameter groups are what the recipe says: backbone against inserted modules (gates
included), each split by weight decay as timm splits it, and per-step learning rates with the inserted
modules' multiplier and warm-up on top of the recipe's warm-up and cosine decay."""

from __future__ import annotations

import math

import pytest
import torch

from suite.baselines import Gate
from suite.build import build_variant
from suite.recipe import load_recipe
from suite.train.schedule import BACKBONE, INSERTED, make_optimizer, make_scheduler

STEPS_PER_EPOCH = 4
SETTINGS = {"epochs": 3, "lr": 0.01, "weight_decay": 0.05, "warmup_epochs": 0.5, "model.width": 8}


def _built(spec: str):
    torch.manual_seed(0)
    return build_variant(spec, "cls", 10, 3, 32, width=8)


def _expected_lr(step: int, peak: float, mult: float, module_warmup_steps: int, part: str) -> float:
    """The recipe's schedule written out: 2 warm-up steps to the peak, cosine to 0 over the other 10;
    the inserted modules at ``mult`` x the peak, ramped over their own ``module_warmup_steps``."""
    total, warmup = 3 * STEPS_PER_EPOCH, 2
    factor = (step + 1) / warmup if step < warmup else 0.5 * (1 + math.cos(math.pi * (step - warmup) / (total - warmup)))
    if part == BACKBONE:
        return peak * factor
    own = (step + 1) / module_warmup_steps if step < module_warmup_steps else 1.0
    return peak * mult * factor * own


def _lrs(optimizer, scheduler, steps: int) -> list[dict[str, float]]:
    seen = []
    for _ in range(steps):
        seen.append({group["part"]: group["lr"] for group in optimizer.param_groups})
        optimizer.step()
        scheduler.step()
    return seen


@pytest.mark.parametrize("optimizer_name", ["adamw", "sgd"])
def test_groups_split_inserted_from_backbone_and_decay_from_no_decay(optimizer_name):
    recipe = load_recipe("resnet18", "cls", "quick", {**SETTINGS, "optimizer": optimizer_name, "module_lr_mult": 10})
    built = _built("resnet18+se@blocks3,blocks4:gated")
    optimizer = make_optimizer(built.model, recipe, built.inserted_parameters())
    groups = optimizer.param_groups
    assert [(g["part"], g["weight_decay"]) for g in groups] == [
        (BACKBONE, 0.0), (INSERTED, 0.0), (BACKBONE, 0.05), (INSERTED, 0.05)
    ]  # fmt: skip
    inserted = {id(p) for g in groups if g["part"] == INSERTED for p in g["params"]}
    names = dict((id(p), n) for n, p in built.model.named_parameters())
    assert {names[i] for i in inserted} == set(built.inserted_parameter_names())
    assert {names[i] for i in inserted} == {n for n in names.values() if ".se.inserted." in n}
    gates = [m.gate for m in built.model.modules() if isinstance(m, Gate)]
    assert len(gates) == 4 and all(id(g) in inserted for g in gates), "the gates learn at the modules' rate"
    every = [p for g in groups for p in g["params"]]
    assert len(every) == len({id(p) for p in every}) == len(list(built.model.parameters()))
    for group in groups:
        no_decay = group["weight_decay"] == 0
        assert all((p.ndim <= 1 or names[id(p)].endswith(".bias")) == no_decay for p in group["params"])
        assert group["lr"] == (0.1 if group["part"] == INSERTED else 0.01)


def test_learning_rates_follow_the_recipe_step_by_step():
    recipe = load_recipe("resnet18", "cls", "quick", {**SETTINGS, "module_lr_mult": 10, "module_warmup_epochs": 1})
    built = _built("resnet18+eca:gated")
    optimizer = make_optimizer(built.model, recipe, built.inserted_parameters())
    scheduler = make_scheduler(optimizer, recipe, STEPS_PER_EPOCH)
    for step, lrs in enumerate(_lrs(optimizer, scheduler, 3 * STEPS_PER_EPOCH)):
        for part in (BACKBONE, INSERTED):
            assert lrs[part] == pytest.approx(_expected_lr(step, 0.01, 10, STEPS_PER_EPOCH, part), abs=1e-12), (step, part)


def test_by_default_inserted_modules_learn_like_the_backbone_and_a_baseline_has_only_backbone_groups():
    recipe = load_recipe("resnet18", "cls", "quick", SETTINGS)
    built = _built("resnet18+se")
    optimizer = make_optimizer(built.model, recipe, built.inserted_parameters())
    scheduler = make_scheduler(optimizer, recipe, STEPS_PER_EPOCH)
    assert all(lrs[BACKBONE] == lrs[INSERTED] for lrs in _lrs(optimizer, scheduler, 3 * STEPS_PER_EPOCH))
    baseline = _built("resnet18")
    assert baseline.inserted_parameters() == []
    plain = make_optimizer(baseline.model, recipe, baseline.inserted_parameters())
    assert [g["part"] for g in plain.param_groups] == [BACKBONE, BACKBONE]


def test_a_transformers_no_weight_decay_names_stay_without_decay():
    recipe = load_recipe("vit_tiny", "cls", "quick", {"module_lr_mult": 5})
    built = build_variant("vit_tiny+se@block3", "cls", 10, 3, 32)
    optimizer = make_optimizer(built.model, recipe, built.inserted_parameters())
    no_decay = {id(p) for g in optimizer.param_groups if g["weight_decay"] == 0 for p in g["params"]}
    assert id(built.model.pos_embed) in no_decay and id(built.model.cls_token) in no_decay
    assert {g["part"] for g in optimizer.param_groups} == {BACKBONE, INSERTED}
