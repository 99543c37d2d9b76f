"""Baseline arguments in the grammar: ``unet(width=18)`` (a capacity-matched control) round-trips, is
checked against the builder, reaches the builder over the recipe's value, and keeps the recipe shared."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from suite.baselines import BASELINES, baseline_defaults
from suite.build import baseline_spec, build_variant, check_recipe_arguments, count_params
from suite.cli import app
from suite.errors import SuiteError
from suite.spec import Spec, canonical, key, parse

# Every baseline that has arguments of its own, with a value of each that differs from the default.
SETTABLE = {
    "unet": {"width": 18},
    "resnet18": {"width": 20},
    "resnet34": {"width": 20},
    "resnet50": {"width": 20},
    "resunet": {"decoder_channels": (64, 32, 16, 16, 8)},
    "vit_tiny": {"embed_dim": 195, "mlp_dim": 700},
    "vit_small": {"embed_dim": 390},
    "swin_tiny": {"embed_dim": 99, "mlp_dims": (400, 800, 1600, 3200)},
}
# Per-stage widths, as a capacity-matched control writes them when one stage leaves the plain ladder.
PER_STAGE = {"unet": {"widths": (8, 16, 32, 64, 132)}, "resnet18": {"widths": (16, 32, 64, 136)}}


def _text(kwargs: dict) -> str:
    from suite.spec import format_value

    return ",".join(f"{k}={format_value(v)}" for k, v in kwargs.items())


def test_every_baseline_with_arguments_is_covered():
    assert {b for b in BASELINES.list() if set(baseline_defaults(b)) - {"pretrained"}} == set(SETTABLE)


@pytest.mark.parametrize("baseline", sorted(SETTABLE))
def test_baseline_arguments_round_trip_and_keep_their_types(baseline):
    kwargs = SETTABLE[baseline]
    text = f"{baseline.upper()}({_text(kwargs)})+se"
    spec = canonical(text)
    assert dict(spec.baseline_kwargs) == kwargs and spec.baseline == baseline
    assert canonical(str(spec)) == spec and parse(str(spec)) == spec
    assert str(spec).startswith(f"{baseline}({_text(kwargs)})+se@")
    assert not spec.is_baseline and not canonical(f"{baseline}({_text(kwargs)})").is_baseline
    assert baseline_spec(spec) == baseline, "compared with the plain baseline of its recipe"


def test_values_are_coerced_to_the_builders_types():
    assert key("unet(width=18.0)") == "unet(width=18)"
    assert key("resunet(decoder_channels=(64.0,32,16,16,8))") == "resunet(decoder_channels=(64,32,16,16,8))"
    assert key("unet(width=64)") == "unet(width=64)", "an absent argument means the recipe's value, not the default"


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("unet(depth=3)", "baseline 'unet' has no argument 'depth'; its arguments: width=64"),
        ("unet(width=1.5)", "baseline 'unet' argument 'width' takes a whole number (default width=64), got 1.5"),
        ("unet(width=true)", "takes a whole number"),
        ("unet(width=(8,16))", "takes a whole number"),
        ("resunet(decoder_channels=64)", "takes a tuple of whole numbers (default decoder_channels=(256,128,64,32,16))"),
        ("resunet(decoder_channels=(64,2.5))", "takes a tuple of whole numbers"),
        ("vit_tiny(width=8)", "baseline 'vit_tiny' has no argument 'width'; its arguments: embed_dim=192, mlp_dim=None"),
        ("unet(width=18", "at character 14"),
        ("unet(width=((8)))", "a literal value"),
    ],
)
def test_mistakes_are_one_line_naming_the_arguments(text, phrase):
    with pytest.raises(SuiteError) as err:
        canonical(text)
    assert phrase in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("baseline", "kwargs"),
    [*SETTABLE.items(), *PER_STAGE.items()],
    ids=[*SETTABLE, *(f"{b}-per-stage" for b in PER_STAGE)],
)
def test_the_arguments_reach_the_builder(baseline, kwargs):
    task = BASELINES.entry(baseline).meta["tasks"][0]
    size = 32
    direct = BASELINES.get(baseline)(task, 2, 3, size, **kwargs)
    built = build_variant(f"{baseline}({_text(kwargs)})", task, 2, 3, size)
    assert built.params == count_params(direct)
    assert built.model.state_dict().keys() == direct.state_dict().keys()
    assert built.baseline_kwargs == kwargs


def test_the_spec_argument_wins_over_the_recipes_and_is_compared_with_the_recipes_baseline():
    built = build_variant("unet(width=18)+se@dec1", "seg", 1, 3, 32, width=8)
    assert built.baseline_kwargs == {"width": 18}
    assert built.model.insertion_points()["dec1"].channels == 18
    plain_recipe = count_params(BASELINES.get("unet")("seg", 1, 3, 32, width=8))
    assert built.baseline_params == plain_recipe
    assert built.params_added == built.params - plain_recipe
    plain = build_variant("unet", "seg", 1, 3, 32, width=8)
    assert plain.baseline_kwargs == {"width": 8} and plain.params_added == 0


@pytest.mark.parametrize(
    ("text", "model", "instead"),
    [
        ("unet(width=16)+se", {"width": 16}, "unet+se@dec1,dec2,dec3,dec4"),
        ("unet(width=64)", {}, "unet"),  # no recipe value: the builder's default
        ("resunet(decoder_channels=(64,32,16,16,8))", {"decoder_channels": [64, 32, 16, 16, 8]}, "resunet"),
        ("vit_tiny(embed_dim=96,mlp_dim=200)", {"embed_dim": 96}, "vit_tiny(mlp_dim=200)"),
    ],
)  # fmt: skip
def test_arguments_that_change_nothing_under_the_recipe_are_refused(text, model, instead):
    with pytest.raises(SuiteError) as err:
        check_recipe_arguments(text, model)
    message = str(err.value)
    assert "\n" not in message and message.endswith(f"same network as {instead}: write that (a baseline argument names what differs)")
    check_recipe_arguments("unet(width=18)", {"width": 16})
    check_recipe_arguments(Spec("unet"), {})


def test_a_grid_keeps_one_recipe_for_the_baseline_and_its_widened_control():
    from suite.grid import GridRequest, resolve

    request = GridRequest(variants=["unet(width=18)", "unet+se"], dataset="shapes", overrides={"model.width": 16})
    resolved = resolve(request)
    assert resolved.variants == ["unet(width=18)", key("unet+se")]
    assert resolved.baselines == ["unet"] and resolved.recipes["unet"].model == {"width": 16}
    with pytest.raises(SuiteError, match=r"unet\(width=16\)\+se@dec1,dec2,dec3,dec4 sets width=16, which the recipe gives"):
        resolve(GridRequest(variants=["unet(width=16)+se"], dataset="shapes", overrides={"model.width": 16}))


def test_plan_gives_the_control_its_own_keys_under_the_shared_recipe():
    from suite.grid import GridRequest, plan

    request = GridRequest(
        variants=["unet(width=6)"], dataset="shapes", folds=3, overrides={"model.width": 4, "image_size": 16}
    )
    grid = plan(request)
    assert grid.specs == ["unet", "unet(width=6)"]
    by_spec = {spec: [job for job in grid.jobs if job.spec == spec] for spec in grid.specs}
    assert {job.recipe_hash for job in grid.jobs} == {by_spec["unet"][0].recipe_hash}
    assert {job.key for job in by_spec["unet"]}.isdisjoint(job.key for job in by_spec["unet(width=6)"])


def test_suite_inspect_builds_the_widened_baseline():
    result = CliRunner().invoke(app, ["inspect", "unet(width=18)", "--image-size", "32", "--no-latency", "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    direct = count_params(BASELINES.get("unet")("seg", 1, 3, 32, width=18))
    assert shown["spec"] == "unet(width=18)" and shown["params"] == direct
    assert shown["baseline_kwargs"] == {"width": 18}


def test_studies_keep_the_baseline_arguments():
    from suite.studies.ablation import factors_of, subset_specs
    from suite.studies.sweep import expand_sweep

    baseline, factors = factors_of("unet(width=18)+se@dec1+eca@dec2")
    assert subset_specs(baseline, factors) == [
        "unet(width=18)", "unet(width=18)+se@dec1", "unet(width=18)+eca@dec2", "unet(width=18)+se@dec1+eca@dec2"
    ]
    assert [cell.variant for cell in expand_sweep("unet(width=18)+se", points=["dec1"]).cells] == ["unet(width=18)+se@dec1"]
