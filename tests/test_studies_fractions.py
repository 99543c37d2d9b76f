"""Small-data trials: nested, stratified, deterministic training subsets that never touch the validation fold;
the fraction in the run key (full-data keys unchanged); one grid per fraction; bad fractions refused."""

from __future__ import annotations

import math
from collections import Counter

import pytest
import torch

from _study_fixtures import FRACTIONS, fractions_request, noisy, write_study
from suite.datasets import load_dataset, make_manifest
from suite.datasets.subsets import nested_subset, subset_size
from suite.errors import SuiteError
from suite.grid import GridRequest, plan
from suite.recipe import OMITTED_AT_DEFAULT, Recipe, load_recipe
from suite.records import stable_hash
from suite.reports.model import build_report
from suite.store import read_runs
from suite.studies.plan import StudyRequest, fraction_requests, parse_fractions, plan_study
from suite.verdict import compare

LADDER = (0.1, 0.25, 0.5, 1.0)


@pytest.fixture(scope="module")
def digits():
    data = load_dataset("digits", image_size=8)
    return data, make_manifest(data, 5, 0)


def test_subsets_are_nested_inside_the_training_part_and_leave_validation_alone(digits):
    data, manifest = digits
    for fold in range(manifest.k):
        train, val = manifest.split(fold, data.ids)
        subsets = [set(nested_subset(train, data, f, 0, fold).tolist()) for f in LADDER]
        for smaller, larger in zip(subsets, subsets[1:]):
            assert smaller < larger  # 10% inside 25% inside 50% inside all of it
        assert subsets[-1] == set(train.tolist()) and not subsets[-1] & set(val.tolist())
        for fraction, subset in zip(LADDER, subsets):
            assert len(subset) == subset_size(len(train), fraction) == math.ceil(fraction * len(train) - 1e-9)


def test_subsets_keep_each_class_within_one_sample_of_its_share(digits):
    data, manifest = digits
    train, _ = manifest.split(2, data.ids)
    whole = Counter(data.targets[train].tolist())
    for fraction in (0.05, 0.1, 0.25, 0.5, 0.8):
        chosen = nested_subset(train, data, fraction, 0, 2)
        counts = Counter(data.targets[chosen].tolist())
        size = len(chosen)
        for label, total in whole.items():
            assert abs(counts[label] - size * total / len(train)) <= 1.0 + 1e-9, (fraction, label)


def test_subsets_follow_the_split_seed_and_fold_and_nothing_else(digits):
    data, manifest = digits
    train, _ = manifest.split(0, data.ids)
    once = nested_subset(train, data, 0.25, 0, 0)
    assert torch.equal(once, nested_subset(train.flip(0), data, 0.25, 0, 0))  # not the order handed in
    assert not torch.equal(once, nested_subset(train, data, 0.25, 1, 0))  # another split seed, another draw
    assert not torch.equal(once, nested_subset(train, data, 0.25, 0, 1))
    assert torch.equal(nested_subset(train, data, 1.0, 0, 0), train)


def test_fraction_one_keeps_the_recipes_and_run_keys_of_full_data_runs():
    recipe = load_recipe("unet", "seg", "quick")
    values = recipe.to_dict()
    assert "train_fraction" not in values  # the recipe dict (and so its hash) of stores made before fractions
    fields = {name: value for name, value in vars(recipe).items() if name not in OMITTED_AT_DEFAULT}
    assert "train_fraction" in OMITTED_AT_DEFAULT and recipe.hash == stable_hash(fields)
    smaller = Recipe.from_dict({**values, "train_fraction": 0.25})
    assert smaller.to_dict()["train_fraction"] == 0.25 and smaller.hash != recipe.hash
    assert Recipe.from_dict(smaller.to_dict()) == smaller


def test_one_grid_per_fraction_whose_jobs_differ_only_in_the_fraction():
    grids = plan_study(fractions_request()).grids
    assert [fraction for fraction, _ in grids] == list(FRACTIONS)
    (small, quarter), (_, full) = grids
    plain = plan(GridRequest(["unet+se"], dataset="shapes", folds=5, overrides=dict(fractions_request().grid.overrides)))
    assert [j.key for j in full.jobs] == [j.key for j in plain.jobs]  # fraction 1 = an ordinary grid
    assert not {j.key for j in quarter.jobs} & {j.key for j in full.jobs}
    assert {j.recipe["train_fraction"] for j in quarter.jobs} == {small}
    assert quarter.manifest.sha256 == full.manifest.sha256  # the same folds, the same validation images


@pytest.mark.parametrize("text", ["0", "1.5", "-0.1", "half", "0.1,,1", "nan"])
def test_bad_fractions_are_refused_in_one_line(text):
    with pytest.raises(SuiteError, match="train-fraction") as err:
        parse_fractions(text)
    assert "\n" not in str(err.value)


def test_fractions_are_sorted_and_each_kept_once():
    assert parse_fractions("1,0.25, 0.1,0.25") == (0.1, 0.25, 1.0) and parse_fractions(None) == (1.0,)


def test_a_fraction_set_with_set_is_refused_and_a_tiny_one_names_the_least_that_works():
    request = fractions_request()
    request.grid.overrides["train_fraction"] = "0.5"
    with pytest.raises(SuiteError, match="--train-fraction, not --set"):
        fraction_requests(request)
    tiny = StudyRequest("fractions", GridRequest(["unet+se"], dataset="shapes", folds=5), (0.001, 1.0))
    with pytest.raises(SuiteError, match="use at least 0.0104"):
        plan_study(tiny)


def test_the_report_gives_a_verdict_per_fraction_and_the_curve(tmp_path):
    value = noisy({"unet+se@dec1,dec2,dec3,dec4": 0.03}, noise=0.002, seed=5, fractions={0.25: 0.0})
    planned = write_study(tmp_path / "suite.db", fractions_request(), value)
    runs = read_runs(tmp_path / "suite.db", status=None)
    report = build_report(runs, study=planned.study)
    (curve,) = report.study.curves
    expected = {c.recipe_hash: c for c in compare(runs, plan=planned.study.plan())}
    assert [p.fraction for p in curve.points] == list(FRACTIONS)
    for point, (_, grid) in zip(curve.points, planned.grids):
        assert point.comparison.verdict == expected[grid.jobs[0].recipe_hash].verdict
        assert point.n_train == pytest.approx(runs[runs["recipe_hash"] == grid.jobs[0].recipe_hash]["n_train"].mean())
    quarter, full = curve.points
    assert full.comparison.holds and not quarter.comparison.holds  # planted: the gain only with all the data
    assert {setting.label for section in report.sections for setting in section.settings} == {
        "train_fraction=0.25", "train_fraction=1.0"
    }
    assert "0.25: " in curve.summary() and f"1: {full.comparison.verdict}" in curve.summary()
