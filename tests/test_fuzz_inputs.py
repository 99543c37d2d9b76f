"""Property tests of the other inputs a user writes: variant-set files (any bytes, any YAML, grids with
values of any type) and recipe overrides (``--set KEY=VALUE`` text and YAML values). Only a one-line
``SuiteError`` or a checked result comes out; a recipe that is accepted has every number in range."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from suite.baselines import BASELINES  # imported up front: the first example is not charged for it
from suite.commands._grid_options import recipe_overrides as _overrides
from suite.errors import SuiteError
from suite.grid import GridRequest, resolve
from suite.recipe import FIELDS, RANGES, Recipe, load_recipe
from suite.variant_sets import GRID_KEYS, load

# A deadline per example far above the milliseconds one takes: it stops a pathological input, not a busy machine.
BOUNDED = settings(max_examples=150, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
assert BASELINES.list()

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["resnet18+se", "unet+se@skip", "digits", "shapes", "quick", "full", "nan", ".inf", "1e999"]),
)
documents = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20)
recipe_keys = st.sampled_from([*FIELDS, "model.width", "model.decoder_channels", "model.depth", "lerning_rate", ""])
texts = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["nan", "-.inf", "1e400", "9" * 5000, "[" * 500, "{a: 1}", "null", "true", "0x10", "3e-4", "[8, 8]"]),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)


def _one_line(err: SuiteError) -> None:
    assert str(err) and "\n" not in str(err) and len(str(err)) < 2000


def _load_file(content: bytes) -> list[GridRequest] | None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "set.yaml"
        path.write_bytes(content)
        try:
            return load(str(path))
        except SuiteError as err:
            _one_line(err)
            return None


@BOUNDED
@given(st.one_of(st.binary(max_size=300), documents.map(lambda doc: yaml.safe_dump(doc).encode())))
def test_any_file_is_a_variant_set_or_one_line_error(content: bytes) -> None:
    _load_file(content)


@st.composite
def grids(draw) -> dict:
    """Grid entries with known keys (and sometimes an unknown one), each value of any type."""
    keys = draw(st.lists(st.sampled_from([*GRID_KEYS, "epochs", "device"]), max_size=5, unique=True))
    entry = {key: draw(documents) for key in keys}
    if draw(st.booleans()):
        entry["variants"] = draw(st.lists(st.sampled_from(["resnet18+se", "unet+se", "resnet18+eca@stage4"]), min_size=1, max_size=2))
    return entry


@settings(max_examples=100, deadline=20_000, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(grids(), min_size=1, max_size=3))
def test_grids_with_values_of_any_type_load_checked_or_fail_in_one_line(entries: list[dict]) -> None:
    loaded = _load_file(yaml.safe_dump({"grids": entries}).encode())
    for request in loaded or []:
        assert isinstance(request.variants, list) and all(isinstance(v, str) for v in request.variants)
        for name in ("folds", "seeds", "split_seed"):
            assert type(getattr(request, name)) is int
        assert isinstance(request.overrides, dict) and all(isinstance(k, str) for k in request.overrides)
        try:
            resolve(request)
        except SuiteError as err:
            _one_line(err)


def _accepted(recipe: Recipe) -> None:
    for name, valid in RANGES.items():
        value = getattr(recipe, name)
        assert value is None or value in valid, (name, value)
        assert not (isinstance(value, float) and not math.isfinite(value))
    assert recipe.warmup_epochs <= recipe.epochs


@BOUNDED
@given(st.lists(st.tuples(recipe_keys, texts), max_size=4), st.sampled_from([("resnet18", "cls"), ("unet", "seg"), ("resunet", "seg")]))
def test_set_options_give_a_recipe_in_range_or_one_line_error(settings_: list[tuple[str, str]], cell: tuple[str, str]) -> None:
    try:
        overrides = _overrides(None, None, None, None, [f"{key}={value}" for key, value in settings_])
        recipe = load_recipe(*cell, "quick", overrides)
    except SuiteError as err:
        _one_line(err)
        return
    _accepted(recipe)


@BOUNDED
@given(st.dictionaries(recipe_keys, documents, max_size=4))
def test_yaml_override_values_of_any_type_give_a_recipe_in_range_or_one_line_error(overrides: dict) -> None:
    try:
        recipe = load_recipe("resnet18", "cls", "full", overrides)
    except SuiteError as err:
        _one_line(err)
        return
    _accepted(recipe)


@settings(max_examples=25, deadline=20_000, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["model.width", "image_size", "batch_size", "model"]), documents, max_size=2))
def test_overrides_that_reach_the_builder_are_checked_before_any_data_is_read(overrides: dict) -> None:
    try:
        resolve(GridRequest(["unet+se"], dataset="shapes", folds=3, overrides=overrides))
    except SuiteError as err:
        _one_line(err)
