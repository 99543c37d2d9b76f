"""Pretrained weights: a saved state dict loads into the baseline key by key, and only the inserted
modules, a head with another class count and a reshaped stem start fresh; misfits are one line; the
library's weights come from the Hugging Face cache or a one-line message; the file's SHA-256 keys runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torchvision

from suite.baselines import BASELINES
from suite.build import build_variant
from suite.errors import SuiteError
from suite.recipe import Recipe, load_recipe, verify_weights
from _weights_fixtures import TINY_RESNET, perturbed, place_in_hub_cache, save, trained_tiny_resnet

WITH_WEIGHTS = [entry.name for entry in BASELINES.entries() if "weights" in entry.meta]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple[dict, dict[str, Path]]:
    """A tiny resnet18 trained for a few steps: its state dict and the files it was saved to."""
    model = trained_tiny_resnet()
    return model.state_dict(), save(model, tmp_path_factory.mktemp("weights"), "resnet18-w8")


@pytest.fixture
def empty_hub_cache(tmp_path, monkeypatch) -> Path:
    from huggingface_hub import constants

    cache = tmp_path / "hub"
    cache.mkdir()
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    return cache


def _one_line(err: pytest.ExceptionInfo) -> str:
    message = str(err.value)
    assert "\n" not in message and "Traceback" not in message
    return message


@pytest.mark.parametrize("kind", ["pth", "safetensors"])
def test_every_baseline_weight_is_the_files_and_the_inserted_modules_are_new(tiny, kind):
    state, paths = tiny
    built = build_variant("resnet18+se", **TINY_RESNET, pretrained=str(paths[kind]))
    ours = built.model.state_dict()
    for key, tensor in state.items():
        assert torch.equal(ours[key], tensor), key
    weights = built.loaded_weights
    assert weights.loaded == len(state) and weights.reinitialised == weights.adapted == weights.unused == []
    assert weights.source == str(paths[kind]) and len(weights.sha256) == 64
    new = built.inserted_parameter_names()
    assert new == [name for name, _ in built.model.named_parameters() if name not in state]
    assert new and all(".se.inserted.0." in name for name in new)
    assert sum(built.model.get_parameter(name).numel() for name in new) == built.params_added


def test_a_wrong_class_count_reinitialises_only_the_head(tiny):
    state, paths = tiny
    torch.manual_seed(0)
    fresh = build_variant("resnet18", **{**TINY_RESNET, "num_classes": 3}).model.state_dict()
    torch.manual_seed(0)
    built = build_variant("resnet18", **{**TINY_RESNET, "num_classes": 3}, pretrained=str(paths["pth"]))
    ours = built.model.state_dict()
    assert built.loaded_weights.reinitialised == ["fc.weight", "fc.bias"]
    assert ours["fc.weight"].shape == (3, state["fc.weight"].shape[1])
    assert torch.equal(ours["fc.weight"], fresh["fc.weight"]), "the head keeps its fresh initialisation"
    assert all(torch.equal(ours[k], v) for k, v in state.items() if not k.startswith("fc."))


def test_a_file_of_another_architecture_is_refused_in_one_line(tiny, tmp_path):
    _, paths = tiny
    vit = save(build_variant("vit_tiny", "cls", 10, 3, 32).model, tmp_path, "vit")
    with pytest.raises(SuiteError) as err:
        build_variant("resnet18+se", **TINY_RESNET, pretrained=str(vit["safetensors"]))
    assert "vit.safetensors does not fit resnet18" in _one_line(err) and "plain resnet18" in str(err.value)
    with pytest.raises(SuiteError) as err:
        build_variant("resnet34", **TINY_RESNET, pretrained=str(paths["pth"]))
    assert "does not fit resnet34" in _one_line(err) and "layer1.2." in str(err.value)


def test_another_width_names_the_key_and_both_shapes(tiny):
    _, paths = tiny
    with pytest.raises(SuiteError) as err:
        build_variant("resnet18", **{**TINY_RESNET, "width": 16}, pretrained=str(paths["pth"]))
    assert "is (8, 64, 3, 3) in the file but (16, 64, 3, 3) in the network" in _one_line(err)
    assert "model.* settings (width" in str(err.value)


def test_a_variants_state_dict_is_not_a_baselines(tiny, tmp_path):
    built = build_variant("resnet18+se@blocks1", **TINY_RESNET)
    path = save(built.model, tmp_path, "variant")["pth"]
    with pytest.raises(SuiteError, match=r"the file has key 'layer1\.0\.se\.inserted"):
        build_variant("resnet18", **TINY_RESNET, pretrained=str(path))


def test_imagenet_stem_weights_leave_the_cifar_stem_fresh_and_grey_input_sums_the_filters(tmp_path):
    """A file saved at 224 px (7x7 stem) into the 32 px network (3x3 CIFAR stem): conv1 stays fresh;
    into a 1-channel network at 224 px: conv1 is the file's filters summed over RGB (timm's adapt_input_conv)."""
    big = perturbed(build_variant("resnet18", **{**TINY_RESNET, "image_size": 224}).model)
    path = save(big, tmp_path, "imagenet-stem")["safetensors"]
    small = build_variant("resnet18", **TINY_RESNET, pretrained=str(path))
    assert small.loaded_weights.reinitialised == ["conv1.weight"]
    assert small.model.conv1.weight.shape[-1] == 3
    grey = build_variant("resnet18", **{**TINY_RESNET, "image_size": 224, "in_channels": 1}, pretrained=str(path))
    assert grey.loaded_weights.adapted == ["conv1.weight"] and grey.loaded_weights.reinitialised == []
    assert torch.allclose(grey.model.conv1.weight, big.conv1.weight.sum(dim=1, keepdim=True))


@pytest.mark.parametrize("name", ["vit_tiny", "swin_tiny"])
def test_transformer_weights_are_resampled_to_another_input_size_by_timm(name, tmp_path):
    source = perturbed(build_variant(name, "cls", 10, 3, 32).model)
    path = save(source, tmp_path, name)["pth"]
    same = build_variant(f"{name}+se", "cls", 10, 3, 32, pretrained=str(path))
    assert all(torch.equal(same.model.state_dict()[k], v) for k, v in source.state_dict().items())
    other = build_variant(name, "cls", 10, 3, 128, pretrained=str(path)).loaded_weights
    assert "patch_embed.proj.weight" in other.adapted and other.reinitialised == []
    with torch.device("meta"):  # as suite run checks a grid before training: keys and shapes, no copy
        checked = build_variant(name, "cls", 10, 3, 128, pretrained=str(path))
    assert checked.loaded_weights.adapted == other.adapted and next(checked.model.parameters()).is_meta


def test_resunet_loads_a_torchvision_resnet34_into_its_encoder(tmp_path):
    torchvision_model = perturbed(torchvision.models.resnet34())
    path = save(torchvision_model, tmp_path, "resnet34")["pth"]
    built = build_variant("resunet+se", "seg", 1, 1, 32, decoder_channels=(16, 8, 8, 8, 8), pretrained=str(path))
    weights = built.loaded_weights
    assert weights.unused == ["fc.weight", "fc.bias"] and weights.adapted == ["conv1.weight"]
    encoder = built.model.encoder.state_dict()
    reference = torchvision_model.state_dict()
    assert all(torch.equal(encoder[k], reference[k]) for k in encoder if k != "conv1.weight")
    whole = save(build_variant("resunet", "seg", 1, 1, 32).model, tmp_path, "resunet")["pth"]
    with pytest.raises(SuiteError, match=r"the file has key 'encoder\.conv1\.weight'"):
        build_variant("resunet", "seg", 1, 1, 32, pretrained=str(whole))


def test_checkpoints_and_data_parallel_prefixes_are_unwrapped(tiny, tmp_path):
    state, _ = tiny
    path = tmp_path / "checkpoint.pth"
    torch.save({"epoch": 3, "state_dict": {f"module.{k}": v for k, v in state.items()}}, path)
    built = build_variant("resnet18", **TINY_RESNET, pretrained=str(path))
    assert built.loaded_weights.loaded == len(state)


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("missing.pth", None, "does not exist"),
        ("weights.txt", b"x", "is not a state dict file"),
        ("broken.safetensors", b"not a safetensors file", "cannot read"),
        ("pickled.pth", "object", "cannot read"),
        ("list.pt", "list", "holds no state dict"),
    ],
)  # fmt: skip
def test_bad_weight_files_are_one_line(tmp_path, name, content, message):
    path = tmp_path / name
    if content == "object":
        torch.save({"weights": torch.nn.Linear(2, 2)}, path)
    elif content == "list":
        torch.save([torch.zeros(2)], path)
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(SuiteError) as err:
        build_variant("resnet18", **TINY_RESNET, pretrained=str(path))
    assert message in _one_line(err)


@pytest.mark.parametrize("name", WITH_WEIGHTS)
def test_library_weights_offline_and_uncached_name_the_file_and_the_folder(name, empty_hub_cache):
    library = BASELINES.entry(name).meta["weights"]
    task = BASELINES.entry(name).meta["tasks"][0]
    with pytest.raises(SuiteError) as err:
        load_recipe(name, task, "finetune")
    message = _one_line(err)
    folder = empty_hub_cache / f"models--{library.repo_id.replace('/', '--')}"
    assert f"model.safetensors of {library.repo_id}" in message and str(folder) in message
    assert "model.pretrained=PATH" in message


def test_library_weights_come_from_the_hub_cache(tiny, empty_hub_cache):
    _, paths = tiny
    cached = place_in_hub_cache(empty_hub_cache, BASELINES.entry("resnet18").meta["weights"], paths["safetensors"])
    built = build_variant("resnet18+eca", **TINY_RESNET, pretrained=True)
    assert built.loaded_weights.source == str(cached)
    by_path = load_recipe("resnet18", "cls", "quick", {"model.width": 8, "model.pretrained": str(paths["safetensors"])})
    from_cache = load_recipe("resnet18", "cls", "quick", {"model.width": 8, "model.pretrained": True})
    assert from_cache.pretrained_sha256 == by_path.pretrained_sha256 == built.loaded_weights.sha256
    assert from_cache.hash == by_path.hash, "the same weights are the same recipe, wherever the file lies"


def test_the_files_sha256_keys_the_recipe(tiny, tmp_path):
    _, paths = tiny
    plain = load_recipe("resnet18", "cls", "quick", {"model.width": 8})
    copy = tmp_path / "elsewhere.pth"
    shutil.copy(paths["pth"], copy)
    first = load_recipe("resnet18", "cls", "quick", {"model.width": 8, "model.pretrained": str(paths["pth"])})
    moved = load_recipe("resnet18", "cls", "quick", {"model.width": 8, "model.pretrained": str(copy)})
    assert first.pretrained_sha256 and first.hash == moved.hash != plain.hash
    assert Path(moved.model["pretrained"]).is_absolute()
    state = torch.load(copy, weights_only=True)
    state["fc.bias"] += 1
    torch.save(state, copy)
    changed = load_recipe("resnet18", "cls", "quick", {"model.width": 8, "model.pretrained": str(copy)})
    assert changed.hash != first.hash
    with pytest.raises(SuiteError, match="changed since the run was planned"):
        verify_weights(moved, "resnet18")
    verify_weights(changed, "resnet18")


def test_weights_are_set_in_the_recipe_not_the_spec_nor_by_hash(tiny):
    with pytest.raises(SuiteError, match=r"pretrained is a recipe setting, not a spec argument: write resnet18 and pass --set model\.pretrained="):
        build_variant("resnet18(pretrained=true)+se", **TINY_RESNET)
    with pytest.raises(SuiteError, match="is set from model.pretrained's file"):
        load_recipe("resnet18", "cls", "quick", {"pretrained_sha256": "0" * 64})
    with pytest.raises(SuiteError, match="unknown model key 'model.pretrained' for unet"):
        load_recipe("unet", "seg", "quick", {"model.pretrained": str(tiny[1]["pth"])})
    with pytest.raises(SuiteError, match="does not exist"):
        load_recipe("resnet18", "cls", "quick", {"model.pretrained": "no/such/file.pth"})
    assert Recipe.from_dict(load_recipe("resnet18", "cls", "quick").to_dict()).pretrained_sha256 is None


def test_a_run_records_what_it_did_not_load_and_checks_the_file_first(tiny, tmp_path):
    """run_one on 60 digits: the provenance lists the gated SE's parameters (gates included) as new and the
    grey stem as adapted; a file changed after planning is refused before training."""
    from dataclasses import replace

    from suite.datasets import load_dataset, make_manifest
    from suite.records import Job, Seeds
    from suite.train import run_one

    digits = load_dataset("digits", image_size=16)
    data = replace(digits, images=digits.images[:60], targets=digits.targets[:60], ids=digits.ids[:60],
                   strata=None if digits.strata is None else digits.strata[:60], test=None)  # fmt: skip
    copy = tmp_path / "weights.pth"
    shutil.copy(tiny[1]["pth"], copy)
    recipe = load_recipe("resnet18", "cls", "quick", {"epochs": 1, "model.width": 8, "model.pretrained": str(copy)})
    manifest = make_manifest(data, 3, 0)
    job = Job("resnet18+se@blocks4:gated", "digits", None, 3, 0, Seeds(), manifest.sha256, recipe.to_dict(), recipe.hash)
    record = run_one(job, data)
    assert record.status == "done" and record.recipe["pretrained_sha256"] == recipe.pretrained_sha256
    weights = record.provenance["weights"]
    assert weights["source"] == str(copy) and weights["sha256"] == recipe.pretrained_sha256
    assert weights["adapted"] == ["conv1.weight"], "digits are grey: the RGB stem filters are summed"
    assert weights["new"] and all(name.startswith("layer4.") for name in weights["new"])
    assert sum(name.endswith(".gate") for name in weights["new"]) == 2, "one gate per block of stage 4"
    copy.write_bytes(tiny[1]["safetensors"].read_bytes())
    with pytest.raises(SuiteError, match="changed since the run was planned"):
        run_one(job, data)


@pytest.mark.slow
def test_suite_run_trains_from_a_saved_state_dict(tiny, tmp_path):
    """The command line end to end on digits: baseline and gated variant share the recipe (and its hash),
    and the store keeps the weights' provenance."""
    _, paths = tiny
    store = tmp_path / "suite.db"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "OMP_NUM_THREADS": "1"}
    command = [
        sys.executable, "-m", "suite", "run", "--variant", "resnet18+se@blocks4:gated", "--dataset", "digits",
        "--folds", "3", "--epochs", "1", "--store", str(store),
        "--set", "model.width=8", "--set", f"model.pretrained={paths['pth']}", "--set", "module_lr_mult=10",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    from suite.store import Store

    records = {record.spec: record for record in Store(store).records()}
    variant, baseline = records["resnet18+se@blocks4:gated"], records["resnet18"]
    assert variant.provenance["weights"]["sha256"] == variant.recipe["pretrained_sha256"]
    assert variant.provenance["weights"]["new"] and baseline.provenance["weights"]["new"] == []
    assert baseline.recipe_hash == variant.recipe_hash and variant.recipe["module_lr_mult"] == 10
