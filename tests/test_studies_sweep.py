"""Sweep expansion: one single-point variant per (module, point, mode), groups on request, points and modes a
module's kind cannot take skipped and listed once, rows shallow to deep; generated over every baseline."""

from __future__ import annotations

import pytest

from suite.baselines import BASELINES
from suite.errors import SuiteError
from suite.kinds import KINDS
from suite.modules import MODULES
from suite.spec import canonical, parse
from suite.studies.sweep import drop_unbuildable, expand_sweep, position_order, split_list

ATTENTION = next(name for name in MODULES.list() if MODULES.entry(name).meta["kind"] == "attention")


def _points(baseline: str, kind: str) -> list[str]:
    return BASELINES.entry(baseline).meta["catalog"].points_of(kind)


@pytest.mark.parametrize("baseline", BASELINES.list())
def test_all_points_give_one_single_point_variant_per_point_the_kind_takes(baseline):
    design = expand_sweep(f"{baseline}+{ATTENTION}", ["all"])
    fitting = _points(baseline, "attention")
    assert [cell.position for cell in design.cells] == [row.position for row in design.rows]
    assert sorted(cell.position for cell in design.cells) == sorted(fitting)
    for cell in design.cells:
        spec = canonical(cell.variant)
        assert spec.baseline == baseline and spec.insertions[0].points == (cell.position,)
        assert str(spec) == cell.variant  # stored under its canonical key
    others = sorted(set(BASELINES.entry(baseline).meta["catalog"].names) - set(fitting))
    assert len(design.skipped) == (1 if others else 0)  # listed once, naming every point left out
    if others:
        assert all(point in design.skipped[0] for point in others)


@pytest.mark.parametrize("baseline", BASELINES.list())
def test_rows_go_shallow_to_deep_by_the_stride_of_the_built_network(baseline):
    rows = position_order(baseline, list(BASELINES.entry(baseline).meta["catalog"].names))
    strides = [row.stride for row in rows]
    assert strides == sorted(strides)
    groups = BASELINES.entry(baseline).meta["catalog"].groups
    for stride in set(strides):  # at one stride: encoder side, then skip, then decoder side
        names = [row.position for row in rows if row.stride == stride]
        decoder_side = set(groups.get("decoder", ())) | set(groups.get("up", ()))
        roles = [2 if p in decoder_side else 1 if p in groups.get("skip", ()) else 0 for p in names]
        assert roles == sorted(roles), names


def test_unet_rows_order_encoder_skip_decoder_at_each_stride():
    design = expand_sweep("unet+se", ["enc1", "dec1", "skip1", "enc3", "dec3", "enc5"])
    assert [row.position for row in design.rows] == ["enc1", "skip1", "dec1", "enc3", "dec3", "enc5"]
    assert [row.stride for row in design.rows] == [1, 1, 1, 4, 4, 16]


def test_modes_make_one_column_each_and_a_mode_the_kind_lacks_is_skipped_once():
    design = expand_sweep("unet+se", ["enc1", "dec2"], ["after", "residual"], ["dsconv"])
    assert design.columns == ["se", "se:residual"]  # dsconv only replaces: no column
    assert {(c.column, c.position) for c in design.cells} == {
        (column, point) for column in ("se", "se:residual") for point in ("enc1", "dec2")
    }
    assert any("dsconv" in line and "replace" in line for line in design.skipped)
    residual = next(c for c in design.cells if c.column == "se:residual")
    assert parse(residual.variant).insertions[0].mode == "residual"


def test_extra_modules_are_columns_with_their_arguments():
    design = expand_sweep("unet+se(rd_ratio=0.25)", ["dec1"], modules=split_list("eca,cbam(rd_ratio=0.25)"))
    assert design.columns == ["se(rd_ratio=0.25)", "eca", "cbam(rd_ratio=0.25)"]
    assert len(design.variants) == 3 and all("@dec1" in v for v in design.variants)


def test_groups_are_added_once_each_and_groups_the_kind_cannot_take_are_skipped():
    design = expand_sweep("unet+se", ["enc1"], groups=True)
    groups = [row.position for row in design.rows if row.stride is None]
    catalog = BASELINES.entry("unet").meta["catalog"]
    fitting = {f"@{g}" for g, members in catalog.groups.items()
               if len(members) > 1 and all("attention" in catalog.kinds[p] for p in members)}  # fmt: skip
    assert set(groups) == fitting and groups == [row.position for row in design.rows][1:]
    assert "@down" in design.skipped[0] and "@up" in design.skipped[0]
    assert len(set(design.variants)) == len(design.variants)


def test_the_spec_points_and_mode_are_the_defaults():
    design = expand_sweep("unet+se@enc2,dec2:residual")
    assert [cell.position for cell in design.cells] == ["enc2", "dec2"] and design.columns == ["se:residual"]


@pytest.mark.parametrize(
    "spec, options, message",
    [
        ("unet+se@enc1+cbam@dec1", {}, "one module at a time"),
        ("unet+se", {"modes": ["sideways"]}, "unknown mode"),
        ("unet+se", {"points": ["enc9"]}, "unknown point"),
        ("unet+dsconv", {"points": ["skip1"]}, "no cell left"),
        ("unet", {}, "nothing to sweep"),
        ("unet+se", {"modules": ["eca@dec1"]}, "points go in --points"),
    ],
)
def test_bad_sweeps_are_refused_in_one_line(spec, options, message):
    with pytest.raises(SuiteError, match=message) as err:
        expand_sweep(spec, **options)
    assert "\n" not in str(err.value)


def test_cells_that_cannot_be_built_at_the_image_size_are_skipped_with_the_reason():
    design = expand_sweep("unet+simam", ["enc1", "enc5"])
    kept = drop_unbuildable(design, "seg", 1, 3, 16, {"width": 4})  # enc5 gives simam a 1x1 map at 16 px
    assert [cell.position for cell in kept.cells] == ["enc1"] and [row.position for row in kept.rows] == ["enc1"]
    assert any("enc5" in line and "positions" in line for line in kept.skipped)


def test_every_kind_sweeps_over_the_points_of_its_kind():
    for kind in KINDS:
        module = next((m for m in MODULES.list() if MODULES.entry(m).meta["kind"] == kind), None)
        baseline = next((b for b in BASELINES.list() if _points(b, kind)), None)
        if module is None or baseline is None:
            continue
        design = expand_sweep(f"{baseline}+{module}", ["all"])
        assert sorted(c.position for c in design.cells) == sorted(_points(baseline, kind)), kind
