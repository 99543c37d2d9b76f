"""Recipes: every registered baseline has quick and full profiles for its tasks, and those with pretrained
weights a finetune profile; overrides, errors, hashing (older hashes kept)."""

from __future__ import annotations

import hashlib
import inspect

import pytest
import yaml

from suite.baselines import BASELINES
from suite.errors import SuiteError
from suite.recipe import LOSSES, OMITTED_AT_DEFAULT, RECIPE_DIR, Recipe, load_recipe, recipe_files
from suite.records import stable_hash

CELLS = [(entry.name, task) for entry in BASELINES.entries() for task in entry.meta["tasks"]]
DATA_ARGS = ("task", "num_classes", "in_channels", "image_size")


FROM_SCRATCH = ("quick", "full")
PRETRAINED = [cell for cell in CELLS if "weights" in BASELINES.entry(cell[0]).meta]  # baselines with library weights


@pytest.mark.parametrize("profile", FROM_SCRATCH)
@pytest.mark.parametrize("baseline,task", CELLS)
def test_every_baseline_has_each_profile_for_its_tasks(baseline: str, task: str, profile: str) -> None:
    recipe = load_recipe(baseline, task, profile)
    assert recipe.loss in LOSSES[task]
    builder_args = inspect.signature(BASELINES.get(baseline)).parameters
    assert set(recipe.model) <= set(builder_args) - set(DATA_ARGS)
    assert recipe.pretrained_sha256 is None and recipe.module_lr_mult == 1 and recipe.module_warmup_epochs == 0


@pytest.mark.parametrize("baseline,task", PRETRAINED)
def test_baselines_with_weights_have_a_finetune_profile(baseline, task, tmp_path, monkeypatch) -> None:
    """From the library's weights (here a stand-in file in a Hugging Face cache), ImageNet statistics, a
    lower rate than training from scratch and a faster, warmed-up rate for what is inserted."""
    from huggingface_hub import constants

    from _weights_fixtures import place_in_hub_cache

    stand_in = tmp_path / "stand-in.safetensors"
    stand_in.write_bytes(b"weights")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    place_in_hub_cache(tmp_path / "hub", BASELINES.entry(baseline).meta["weights"], stand_in)
    finetune, full = load_recipe(baseline, task, "finetune"), load_recipe(baseline, task, "full")
    assert finetune.model["pretrained"] is True and finetune.pretrained_sha256 == hashlib.sha256(b"weights").hexdigest()
    assert finetune.normalization == "imagenet" and finetune.lr < full.lr and finetune.epochs < full.epochs
    assert finetune.module_lr_mult == 10 and finetune.module_warmup_epochs == 1


def test_a_baseline_without_weights_refuses_finetune_naming_those_with_it() -> None:
    with pytest.raises(SuiteError) as err:
        load_recipe("unet", "seg", "finetune")
    message = str(err.value)
    assert "\n" not in message and message.startswith("unet has no 'finetune' profile for seg (its profiles: quick, full)")
    assert message.endswith("baselines with one: resunet")


# Recipe hashes before module_lr_mult, module_warmup_epochs and pretrained_sha256 existed (the stores made
# then must keep their run keys).
HASHES_BEFORE_WEIGHTS = {
    ("resnet18", "cls", "quick"): "380c32cbd0b55c41",
    ("resnet18", "cls", "full"): "737c329450375752",
    ("resunet", "seg", "quick"): "b0ae2ff5d9e8196e",
    ("swin_tiny", "cls", "quick"): "027628d1949ba61f",
    ("unet", "seg", "quick"): "dfa471a12e9d3148",
    ("unet", "seg", "full"): "8d15c8594e06e85a",
    ("vit_tiny", "cls", "quick"): "3a93cc8cb598bac3",
}


@pytest.mark.parametrize("cell", HASHES_BEFORE_WEIGHTS)
def test_new_keys_at_their_default_leave_the_hash_as_it_was(cell) -> None:
    recipe = load_recipe(*cell)
    assert recipe.hash == HASHES_BEFORE_WEIGHTS[cell]
    assert not set(OMITTED_AT_DEFAULT) & set(recipe.to_dict()) and recipe.hash == stable_hash(recipe.to_dict())
    for name, value in (("module_lr_mult", 2.0), ("module_warmup_epochs", 0.5)):
        assert load_recipe(*cell, {name: value}).hash != recipe.hash, name


@pytest.mark.parametrize("key,value", [("module_lr_mult", 0), ("module_lr_mult", -1), ("module_lr_mult", 1e4)])
def test_module_keys_are_range_checked(key, value) -> None:
    with pytest.raises(SuiteError, match=rf"recipe {key} must be a finite number in"):
        load_recipe("resnet18", "cls", "quick", {key: value})
    with pytest.raises(SuiteError, match="module_warmup_epochs 6.0 is longer than the 5 epochs"):
        load_recipe("resnet18", "cls", "quick", {"module_warmup_epochs": 6})


@pytest.mark.parametrize("baseline,task", CELLS)
def test_quick_profile_is_lighter_than_full(baseline: str, task: str) -> None:
    quick, full = load_recipe(baseline, task, "quick"), load_recipe(baseline, task, "full")
    assert quick.epochs < full.epochs
    assert quick.image_size <= full.image_size


def test_recipe_files_only_name_registered_baselines() -> None:
    assert set(recipe_files()) <= set(BASELINES.list())
    for path in RECIPE_DIR.glob("*.yaml"):
        content = yaml.safe_load(path.read_text())
        assert set(content) - {"baselines"} <= set(LOSSES), f"{path.name} has sections that are not tasks"


def test_overrides_reach_fields_and_model_kwargs() -> None:
    recipe = load_recipe("unet", "seg", "quick", {"lr": 0.1, "epochs": 3, "model.width": 8, "grad_clip": 2})
    assert (recipe.lr, recipe.epochs, recipe.model["width"], recipe.grad_clip) == (0.1, 3, 8, 2.0)
    assert load_recipe("unet", "seg", "quick").model["width"] != 8  # overrides do not leak between calls


def test_string_overrides_are_parsed_like_a_command_line() -> None:
    overrides = {"lr": "3e-4", "amp": "true", "epochs": "7", "grad_clip": "null"}
    recipe = load_recipe("resnet18", "cls", "quick", overrides)
    assert (recipe.lr, recipe.amp, recipe.epochs, recipe.grad_clip) == (3e-4, True, 7, None)


def test_unknown_key_lists_valid_keys() -> None:
    with pytest.raises(SuiteError, match=r"unknown recipe key 'lerning_rate'.*epochs.*lr.*model\.<kwarg>"):
        load_recipe("resnet18", "cls", "quick", {"lerning_rate": 0.1})


def test_unknown_model_key_lists_the_builders_kwargs() -> None:
    with pytest.raises(SuiteError, match=r"unknown model key 'model.depth' for unet; valid: model.width"):
        load_recipe("unet", "seg", "quick", {"model.depth": 3})


def test_unknown_profile_lists_profiles() -> None:
    with pytest.raises(SuiteError, match=r"unknown recipe profile 'paper'; profiles: quick, full"):
        load_recipe("unet", "seg", "paper")


def test_unknown_baseline_and_task_list_choices() -> None:
    with pytest.raises(SuiteError, match=r"no recipe for baseline 'vgg16'.*resnet18"):
        load_recipe("vgg16", "cls")
    with pytest.raises(SuiteError, match=r"unet has no recipe for task 'cls'; its tasks: seg"):
        load_recipe("unet", "cls")


@pytest.mark.parametrize(
    "key,value",
    [("epochs", "many"), ("epochs", 1.5), ("epochs", True), ("lr", [0.1]), ("amp", 1), ("optimizer", 3)],
)
def test_wrong_type_is_a_user_error(key: str, value: object) -> None:
    with pytest.raises(SuiteError, match=rf"recipe key '{key}' must be"):
        load_recipe("resnet18", "cls", "quick", {key: value})


@pytest.mark.parametrize(
    "key,value,choices",
    [("optimizer", "adam", "adamw, sgd"), ("loss", "ce", "dice_bce"), ("schedule", "step", "cosine")],
)
def test_invalid_choice_names_the_valid_ones(key: str, value: str, choices: str) -> None:
    with pytest.raises(SuiteError, match=rf"{key} '{value}' is not valid for seg; choose: {choices}"):
        load_recipe("unet", "seg", "quick", {key: value})


@pytest.mark.parametrize("key,value", [("epochs", 0), ("batch_size", -1), ("lr", 0.0), ("label_smoothing", 1.0)])
def test_out_of_range_values_are_rejected(key: str, value: object) -> None:
    with pytest.raises(SuiteError, match=key):
        load_recipe("resnet18", "cls", "quick", {key: value})


def test_hash_follows_values_not_dict_order() -> None:
    recipe = load_recipe("unet", "seg", "quick", {"model.width": 8})
    values = recipe.to_dict()
    reordered = Recipe.from_dict(dict(reversed(values.items())))
    reordered.model = dict(reversed(list(recipe.model.items()) + [("extra", 1)]))
    recipe.model["extra"] = 1
    assert reordered.hash == recipe.hash
    changed = Recipe.from_dict({**recipe.to_dict(), "lr": recipe.lr * 2})
    assert changed.hash != recipe.hash
    widened = Recipe.from_dict({**recipe.to_dict(), "model": {**recipe.model, "width": 16}})
    assert widened.hash != recipe.hash


def test_to_dict_round_trips_and_is_plain_data() -> None:
    recipe = load_recipe("resunet", "seg", "full")
    values = recipe.to_dict()
    assert Recipe.from_dict(values) == recipe
    assert yaml.safe_load(yaml.safe_dump(values)) == values
