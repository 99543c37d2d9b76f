"""Composites in the grammar: serial ``(se>simam)`` and parallel ``(se|sa):wsum`` units placed as one
attention module; their canonical form, the parts an ablation takes apart, what they compute, and a
composite that trains."""

from __future__ import annotations

import pytest
import torch

from suite.build import build_variant
from suite.composite import Parallel, Serial, build_unit
from suite.errors import SuiteError
from suite.kinds import FUSIONS, MAX_MEMBERS, MAX_NESTING
from suite.modules import MODULES, build_module
from suite.spec import Composite, Insertion, Module, canonical, canonical_unit, key, parse

ATTENTION = [n for n in MODULES.list() if MODULES.entry(n).kind == "attention"]


@pytest.mark.parametrize(
    "text",
    [
        "unet+(se>simam)@decoder",
        "unet+(se|sa|fca):sum@decoder",
        "unet+(se|sa):wsum@dec1,dec2:residual",
        "unet+(se(rd_ratio=0.25)|eca):cat@enc1:gated",
        "resnet18+((se|sa)>simam)@blocks",
        "vit_tiny+(se>(eca|sa):wsum)@block1:gated_residual",
        "unet(width=18)+(se|sa)+cbam@skip1",
    ],
)
def test_composites_round_trip_through_parse_and_canonical(text):
    spec = parse(text)
    assert parse(str(spec)) == spec
    resolved = canonical(text)
    assert canonical(str(resolved)) == resolved and parse(str(resolved)) == resolved
    assert key(text.upper()) == key(text), "names are case-insensitive"


def test_canonical_sorts_parallel_members_and_drops_the_default_fusion():
    assert key("unet+(se|sa|fca):sum@decoder") == key("unet+(fca|sa|se)@decoder") == "unet+(fca|sa|se)@dec1,dec2,dec3,dec4"
    assert key("unet+(sa|se):wsum@dec1") == "unet+(sa|se):wsum@dec1"
    assert key("unet+(se>sa)@dec1") != key("unet+(sa>se)@dec1"), "a serial composite keeps its order"


def test_members_are_canonical_and_nested_groups_of_one_kind_flatten():
    assert key("unet+(se(rd_ratio=0.0625)|ECA(gamma=2))@dec1") == "unet+(eca|se)@dec1"
    assert key("unet+(se>(simam>eca))@dec1") == "unet+(se>simam>eca)@dec1"
    assert key("unet+(se|(sa|eca))@dec1") == "unet+(eca|sa|se)@dec1"
    # a group with another fusion computes something else and stays a group
    assert key("unet+(se|(sa|eca):wsum)@dec1") == "unet+((eca|sa):wsum|se)@dec1"
    assert key("unet+(se(rd_ratio=1)|sa)@dec1") == "unet+(sa|se(rd_ratio=1.0))@dec1"


def test_the_parsed_structure_is_a_tree_an_ablation_can_take_apart():
    (insertion,) = canonical("unet+((se|sa):wsum>simam)@dec1,dec2:residual").insertions
    assert insertion.composite == Composite(
        "serial", (Composite("parallel", (Module("sa"), Module("se")), "wsum"), Module("simam"))
    )
    assert insertion.module == "((sa|se):wsum>simam)" and insertion.kwargs == ()
    assert [leaf.name for leaf in insertion.leaves()] == ["sa", "se", "simam"]
    parts = insertion.parts()
    assert [str(p) for p in parts] == ["(sa|se):wsum@dec1,dec2:residual", "simam@dec1,dec2:residual"]
    assert str(insertion.without(1)) == "(sa|se):wsum@dec1,dec2:residual"
    assert str(parts[0].without(0)) == "se@dec1,dec2:residual", "one member left is an insertion of its own"
    assert Insertion("se").parts() == (Insertion("se"),)
    with pytest.raises(ValueError):
        Insertion("se").without(0)
    with pytest.raises(IndexError):
        insertion.without(5)
    for part in (*parts, insertion.without(0)):
        assert canonical(f"unet+{part}").insertions == (part,), "every part is a canonical insertion"


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("unet+(se|dsconv)@dec1", "dsconv is a conv module; a composite combines attention modules only"),
        ("unet+(se|ag)@dec1", "ag is a fusion module"),
        ("unet+(se|sa):max@dec1", "expected a fusion (sum | wsum | cat) or a mode"),
        ("unet+(se>sa):wsum@dec1", "a fusion goes right after a parallel composite"),
        ("unet+(se|sa>eca)@dec1", "one kind of composite per level"),
        ("unet+(se)@dec1", "'>' (serial) or '|' (parallel)"),
        ("unet+(se|sa)@dec1:replace", "cannot go in mode 'replace'"),
        ("unet+(se|sa)@enc1+(sa|se)@enc1", "placed twice at unet point 'enc1'"),
        ("unet+(se|nosuch)@dec1", "nosuch"),
        ("unet+(se(bogus=1)|sa)@dec1", "no argument 'bogus'"),
    ],
)
def test_composite_mistakes_are_one_line_naming_the_fix(text, phrase):
    with pytest.raises(SuiteError) as err:
        canonical(text)
    assert phrase in str(err.value) and "\n" not in str(err.value)


def test_nesting_and_size_are_bounded():
    nested = "(se|sa)"
    for _ in range(MAX_NESTING - 1):
        nested = f"({nested}>eca)"
    assert canonical(f"unet+{nested}@dec1")
    with pytest.raises(SuiteError, match=f"nest at most {MAX_NESTING} levels"):
        canonical(f"unet+({nested}>eca)@dec1")
    wide = "|".join(ATTENTION[: MAX_MEMBERS + 1])
    with pytest.raises(SuiteError, match=f"at most {MAX_MEMBERS} modules"):
        parse(f"unet+({wide})@dec1")


@pytest.fixture
def x():
    return torch.randn(2, 16, 7, 9)


def _seeded(unit_text: str, channels: int = 16) -> torch.nn.Module:
    torch.manual_seed(0)
    return build_unit(canonical_unit(unit_text), channels).eval()


def _members(names: list[str], channels: int = 16) -> list[torch.nn.Module]:
    """The members as a composite builds them: in canonical order, from the same seed."""
    torch.manual_seed(0)
    return [build_module(name, channels).eval() for name in names]


def test_serial_applies_its_members_in_order(x):
    composite = _seeded("(se>cbam)")
    se, cbam = _members(["se", "cbam"])
    assert isinstance(composite, Serial)
    with torch.no_grad():
        assert torch.allclose(composite(x), cbam(se(x)), atol=1e-6)


@pytest.mark.parametrize("fusion", list(FUSIONS))
def test_parallel_fusions_compute_what_they_say(fusion, x):
    composite = _seeded(f"(se|sa):{fusion}")
    sa, se = _members(["sa", "se"])  # canonical order: sorted
    assert isinstance(composite, Parallel) and composite.fusion == fusion
    with torch.no_grad():
        outputs = [sa(x), se(x)]
        out = composite(x)
        if fusion == "sum":
            expected = outputs[0] + outputs[1]
        elif fusion == "wsum":
            expected = (outputs[0] + outputs[1]) / 2  # softmax of zeros: an equal average at initialisation
            composite.weights.fill_(0)
            composite.weights[1] = 30.0
            assert torch.allclose(composite(x), outputs[1], atol=1e-5), "learned weights choose between members"
        else:
            expected = composite.project(torch.cat(outputs, dim=1))
            assert composite.project.in_channels == 32 and composite.project.out_channels == 16
    assert out.shape == x.shape
    assert torch.allclose(out, expected, atol=1e-6)


def test_a_composite_counts_its_members_and_its_fusion():
    plain = sum(p.numel() for m in _members(["sa", "se"]) for p in m.parameters())
    assert sum(p.numel() for p in _seeded("(se|sa)").parameters()) == plain
    assert sum(p.numel() for p in _seeded("(se|sa):wsum").parameters()) == plain + 2
    assert sum(p.numel() for p in _seeded("(se|sa):cat").parameters()) == plain + 32 * 16 + 16


@pytest.mark.parametrize("mode", ["after", "residual", "gated", "gated_residual"])
def test_modes_apply_to_the_composite_as_a_whole(mode):
    built = build_variant(f"unet+(se|sa)@dec2:{mode}", "seg", 1, 3, 32, width=8)
    (placement,) = built.placements
    assert placement.mode == mode and placement.kind == "attention" and placement.tree["op"] == "parallel"
    (slot,) = built.model.slots("dec2")
    assert slot.modes == [mode] and len(slot.inserted) == 1
    gate = 16 if mode.startswith("gated") else 0
    assert placement.params == placement.tree["params"] + gate


def test_the_build_records_the_tree_for_inspect():
    built = build_variant("unet+((se|sa):wsum>simam)@dec1", "seg", 1, 3, 32, width=8)
    tree = built.placements[0].tree
    assert tree["op"] == "serial" and tree["fusion"] is None
    parallel, simam = tree["members"]
    assert parallel["fusion"] == "wsum" and [m["module"] for m in parallel["members"]] == ["sa", "se"]
    assert simam == {"module": "simam", "hparams": {"e_lambda": 1e-4}, "params": 0}
    assert parallel["params"] == sum(m["params"] for m in parallel["members"]) + 2
    assert built.placements[0].hparams == {}


def test_suite_inspect_shows_the_tree():
    from typer.testing import CliRunner

    from suite.cli import app

    result = CliRunner().invoke(
        app, ["inspect", "unet+(se|sa):wsum@dec1", "--image-size", "32", "--width", "8", "--no-latency"]
    )
    assert result.exit_code == 0, result.output
    assert "unet+(sa|se):wsum@dec1" in result.output
    assert "parallel: every member on the same input, merged by wsum" in result.output
    assert "sa  groups=" in result.output and "se  rd_ratio=" in result.output


@pytest.mark.slow
def test_a_parallel_composite_trains_in_the_unet(tmp_path):
    """``unet+(se|sa):sum@decoder`` trains on the shapes set next to its baseline and is stored."""
    from suite.grid import GridRequest
    from suite.runner import run_grid
    from suite.store import read_runs

    request = GridRequest(
        variants=["unet+(se|sa):sum@decoder"],
        dataset="shapes",
        folds=3,
        overrides={"epochs": 1, "image_size": 16, "model.width": 4, "batch_size": 16},
    )
    result = run_grid(request, str(tmp_path / "suite.db"))
    assert (result.trained, result.skipped) == (6, 0)
    runs = read_runs(tmp_path / "suite.db", status=None)
    variant = runs[runs["spec"] == "unet+(sa|se)@dec1,dec2,dec3,dec4"]
    assert len(variant) == 3 and set(variant["status"]) == {"done"} and variant["val_dice"].between(0, 1).all()
    assert (variant["module"] == "(sa|se)").all()
    assert variant["params"].iloc[0] > runs[runs["spec"] == "unet"]["params"].iloc[0]


def test_studies_take_a_composite_as_one_module():
    """``suite sweep`` moves a composite like a module; ``suite ablate`` keeps one as one factor."""
    from suite.studies.ablation import factors_of, subset_specs
    from suite.studies.sweep import expand_sweep

    design = expand_sweep("unet+(se|sa):wsum", points=["dec1", "enc2"], modes=["after", "gated"])
    assert {cell.variant for cell in design.cells} == {
        "unet+(sa|se):wsum@dec1", "unet+(sa|se):wsum@enc2", "unet+(sa|se):wsum@dec1:gated", "unet+(sa|se):wsum@enc2:gated"
    }
    baseline, factors = factors_of("unet+(se>simam)@dec1+cbam@skip1")
    assert baseline == "unet" and len(factors) == 2
    assert subset_specs(baseline, factors)[1] == "unet+(se>simam)@dec1"
