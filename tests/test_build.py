"""spec -> network: what the build places where, and what it records about it.

Generated from ``MODULES`` x ``BASELINES`` x ``KINDS`` on the baselines' registered ``smoke``
configurations: the placements and parameter counts the build records, modules at points of another
kind and in modes their kind lacks refused naming what fits, maps too small refused at build time.
That each module works at every point in every mode is the contract (tests/test_contract.py). Conv and
fusion wiring is also checked with small probe modules registered only for the test that uses them.
"""

from __future__ import annotations

from functools import lru_cache

import pytest
import timm
import torch
from torch import nn

from suite.baselines import BASELINES, Gate, Slot
from suite.build import BuiltVariant, baseline_spec, build_variant, count_params
from suite.errors import SuiteError
from suite.modules import MODULES, module_defaults
from suite.registry import Entry
from suite.kinds import KINDS, MODES, input_stride
from suite.spec import canonical, parse


def kind_of(module: str) -> str:
    return MODULES.entry(module).meta["kind"]


def catalog_of(baseline: str):
    return BASELINES.entry(baseline).meta["catalog"]


def fitting_points(baseline: str, kind: str) -> list[str]:
    catalog = catalog_of(baseline)
    return [p for p in catalog.names if kind in catalog.kinds[p]]


def smoke_build(spec: str) -> tuple[BuiltVariant, int]:
    """Build ``spec`` in its baseline's tiny configuration; returns the build and the image size."""
    name = parse(spec).baseline
    entry = BASELINES.entry(name)
    settings = dict(entry.meta["smoke"])
    size = settings.pop("image_size")
    task = entry.meta["tasks"][0]
    return build_variant(spec, task, 3 if task == "cls" else 1, 3, size, **settings), size


def smoke_size(baseline: str) -> int:
    return BASELINES.entry(baseline).meta["smoke"]["image_size"]


@lru_cache(maxsize=None)
def plain_smoke(baseline: str) -> BuiltVariant:
    """The plain tiny build, shared read-only by the tests that compare with it."""
    return smoke_build(baseline)[0]


def smoke_points(baseline: str) -> dict:
    return plain_smoke(baseline).model.insertion_points()


def large_enough(baseline: str, module: str, point: str) -> bool:
    """Whether the smoke-size map the module receives at ``point`` has the positions it needs (meta
    ``min_positions``)."""
    side = int(smoke_size(baseline) // input_stride(kind_of(module), smoke_points(baseline)[point]))
    return side * side >= MODULES.entry(module).meta.get("min_positions", 1)


@lru_cache(maxsize=None)
def plain_output_shape(baseline: str) -> torch.Size:
    size = smoke_size(baseline)
    with torch.no_grad():
        return plain_smoke(baseline).model.eval()(torch.randn(2, 3, size, size)).shape


def modes_over_points(module: str, points: list[str]) -> dict[str, list[str]]:
    """Deal the points out to the modes of the module's kind in turn (enc1: after, enc2: residual, ...)."""
    modes = KINDS[kind_of(module)].modes
    return {mode: points[i :: len(modes)] for i, mode in enumerate(modes) if points[i :: len(modes)]}


def inserted_modules(model: nn.Module, point: str, kind: str) -> list[nn.Module]:
    if KINDS[kind].swaps_block:
        return [model.get_submodule(model.block_path(point))]
    return [m.module if isinstance(m, Gate) else m for slot in model.slots(point) for m in slot.inserted]


# That every module works at every fitting point of every baseline in every mode (shapes, a module of its
# own per point, runs once, gradients) is the contract's placement check, run on every module by
# tests/test_contract.py. Here: what the build records about it, in the U-Net (points of every kind) and
# in resnet18 (one copy per residual block).
@pytest.mark.parametrize(
    ("baseline", "module"),
    [pytest.param("unet", m, id=f"unet+{m}") for m in MODULES.list()]
    + [pytest.param("resnet18", m, id=f"resnet18+{m}") for m in ("se", "cbam")],
)
def test_build_records_each_placement_and_its_parameters(baseline, module):
    kind = kind_of(module)
    points = [p for p in fitting_points(baseline, kind) if large_enough(baseline, module, p)]
    by_mode = modes_over_points(module, points)
    spec = "+".join([baseline, *(f"{module}@{','.join(pts)}:{mode}" for mode, pts in by_mode.items())])
    built, _ = smoke_build(spec)
    model = built.model

    expected = [(module, p, mode) for mode, pts in by_mode.items() for p in pts]
    assert [(p.module, p.point, p.mode) for p in built.placements] == expected
    assert [p.point for p in built.placements] == [p for ins in built.spec.insertions for p in ins.points]
    untouched = [p for p in model.insertion_points() if p not in points]
    assert not any(slot.filled for p in untouched for slot in model.slots(p))
    if not KINDS[kind].swaps_block:
        assert all(slot.filled for p in points for slot in model.slots(p))
    placed = {p: inserted_modules(model, p, kind) for p in points}
    replaced_params = _replaced_block_params(baseline, points) if KINDS[kind].swaps_block else 0
    assert built.params_added == sum(p.params for p in built.placements) - replaced_params
    for placement in built.placements:
        assert set(module_defaults(module)) <= set(placement.hparams)
        gates = placement.channels * len(placed[placement.point]) if placement.mode.startswith("gated") else 0
        assert placement.params == sum(count_params(m) for m in placed[placement.point]) + gates


def _replaced_block_params(baseline: str, points: list[str]) -> int:
    plain = plain_smoke(baseline).model
    return sum(count_params(plain.get_submodule(plain.block_path(p))) for p in points)


def _misfits() -> list:
    cases = []
    for baseline in BASELINES.list():
        catalog = catalog_of(baseline)
        for module in MODULES.list():
            wrong = [p for p in catalog.names if kind_of(module) not in catalog.kinds[p]]
            if wrong:
                cases.append(pytest.param(baseline, module, wrong[0], id=f"{baseline}+{module}@{wrong[0]}"))
    return cases


@pytest.mark.parametrize(("baseline", "module", "point"), _misfits())
def test_module_at_a_point_of_another_kind_names_the_fitting_points(baseline, module, point):
    with pytest.raises(SuiteError) as err:
        smoke_build(f"{baseline}+{module}@{point}")
    message = str(err.value)
    assert "\n" not in message and point in message and kind_of(module) in message
    fitting = fitting_points(baseline, kind_of(module))
    assert all(p in message for p in fitting) if fitting else f"no {baseline} point takes" in message
    suggested = message.rsplit("e.g. ", 1)[1]
    assert canonical(suggested).modules == (module,), "the suggested spec is accepted"


@pytest.mark.parametrize(
    ("module", "mode"),
    [(m, mode) for m in MODULES.list() for mode in MODES if mode not in KINDS[kind_of(m)].modes],
)
def test_mode_the_kind_does_not_support_names_its_modes(module, mode):
    kind = kind_of(module)
    baseline = next(b for b in BASELINES.list() if fitting_points(b, kind))
    point = fitting_points(baseline, kind)[0]
    with pytest.raises(SuiteError) as err:
        smoke_build(f"{baseline}+{module}@{point}:{mode}")
    assert all(m in str(err.value) for m in KINDS[kind].modes) and "\n" not in str(err.value)


@pytest.mark.parametrize("module", [m for m in MODULES.list() if MODULES.entry(m).meta.get("min_positions", 1) > 1])
def test_module_at_a_map_smaller_than_it_needs_fails_at_build(module):
    """At 16 px the U-Net's deepest point of each kind gives a module a 1x1 (enc5, up4), 2x2 (skip4, down4)
    map."""
    model = BASELINES.get("unet")("seg", 1, 3, 16, width=8)
    kind = kind_of(module)
    point = max(
        (p for p in model.insertion_points().values() if kind in p.kinds), key=lambda p: input_stride(kind, p)
    )
    if (16 // input_stride(kind, point)) ** 2 >= MODULES.entry(module).meta["min_positions"]:
        pytest.skip(f"{module} works on the smallest U-Net map at 16 px")
    with pytest.raises(SuiteError) as err:
        build_variant(f"unet+{module}@{point.name}", "seg", 1, 3, 16, width=8)
    assert all(part in str(err.value) for part in (module, point.name, "positions", "larger image size"))


def test_plain_baseline_builds_with_nothing_placed():
    built, _ = smoke_build("UNet")
    assert built.key == "unet" and built.spec.is_baseline and built.placements == []
    assert built.params == built.baseline_params == count_params(built.model) and built.params_added == 0


def test_se_resnet50_is_timms_seresnet50():
    """``resnet50+se@blocks`` at 224 px is SENet's placement: timm's seresnet50, parameter for parameter."""
    built = build_variant("resnet50+se@blocks", "cls", 1000, 3, 224)
    reference = timm.create_model("seresnet50", pretrained=False)
    assert built.params == count_params(reference) == 28_088_024
    renamed = {k.replace(".se.inserted.0.", ".se."): v for k, v in built.model.state_dict().items()}
    reference.load_state_dict(renamed, strict=True)
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        assert torch.allclose(built.model.eval()(x), reference.eval()(x), rtol=0, atol=1e-6)


def test_same_spec_rebuilds_the_same_structure():
    """A checkpoint of a variant loads strictly into a fresh build of its key and gives the same outputs."""
    first, size = smoke_build("vit_tiny+se@block1,block5:residual+eca@block5")
    second, _ = smoke_build(first.key)
    second.model.load_state_dict(first.model.state_dict(), strict=True)
    x = torch.randn(2, 3, size, size)
    with torch.no_grad():
        assert torch.equal(first.model.eval()(x), second.model.eval()(x))


def test_placements_follow_the_canonical_spec_in_order():
    built, _ = smoke_build("unet+se@skip2,enc1+se(rd_ratio=0.5)@dec*:residual")
    spec = canonical("unet+se@skip2,enc1+se(rd_ratio=0.5)@dec*:residual")
    assert built.spec == spec and built.key == str(spec)
    assert [(p.point, p.mode) for p in built.placements] == [
        ("enc1", "after"), ("skip2", "after"), ("dec1", "residual"), ("dec2", "residual"),
        ("dec3", "residual"), ("dec4", "residual"),
    ]
    assert built.placements[2].hparams["rd_ratio"] == 0.5 and built.placements[0].hparams["rd_ratio"] == 1 / 16


def test_unknown_build_argument_names_the_valid_ones():
    with pytest.raises(SuiteError, match="no build argument 'depth'.*width"):
        build_variant("unet", "seg", 1, 3, 32, depth=3)


def test_baseline_spec_is_the_plain_baseline():
    assert baseline_spec("UNet+SE@enc1:residual") == "unet"
    assert baseline_spec(parse("resnet18+se")) == "resnet18"
    with pytest.raises(SuiteError, match="valid baselines: .*resnet18"):
        baseline_spec("alexnet+se")


# --- conv and fusion wiring, with probe modules that exist only inside these tests -----------------


class ProbeConv(nn.Module):
    """A conv block stand-in: 3x3 conv with the block's channels and stride."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1)

    def forward(self, x):
        return self.conv(x)


class ProbeFusion(nn.Module):
    """Records what it is given and returns a tensor that is recognisable downstream."""

    def __init__(self, channels: int):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))
        self.seen: list[tuple[torch.Size, torch.Size]] = []
        self.returned: list[torch.Tensor] = []

    def forward(self, decoder, skip):
        self.seen.append((decoder.shape, skip.shape))
        merged = self.scale * (decoder + skip)
        self.returned.append(merged.detach())
        return merged


class Zeros(nn.Module):
    def forward(self, x):
        return torch.zeros_like(x)


def needs_64(channels: int) -> nn.Module:
    if channels < 64:
        raise ValueError(f"needs at least 64 channels, got {channels}")
    return nn.Identity()


@pytest.fixture
def probes(monkeypatch):
    """Register the probe modules for one test only."""
    for name, builder, kind in [
        ("probeconv", ProbeConv, "conv"),
        ("probefusion", ProbeFusion, "fusion"),
        ("zeros", lambda channels: Zeros(), "attention"),
        ("needs64", needs_64, "attention"),
    ]:
        monkeypatch.setitem(MODULES._entries, name, Entry(name, builder, {"kind": kind, "paper": "", "arxiv": ""}))


def test_conv_module_replaces_the_block_with_the_points_channels(probes):
    built, size = smoke_build("unet+probeconv@enc1,dec2")
    model, points = built.model, built.model.insertion_points()
    for name in ("enc1", "dec2"):
        block = model.get_submodule(model.block_path(name))
        assert isinstance(block, ProbeConv)
        assert (block.conv.in_channels, block.conv.out_channels) == (points[name].in_channels, points[name].channels)
    assert model(torch.randn(2, 3, size, size)).shape == plain_output_shape("unet")
    assert {p.point: p.in_channels for p in built.placements} == {n: points[n].in_channels for n in ("enc1", "dec2")}


def test_a_block_is_replaced_once(probes):
    with pytest.raises(SuiteError, match="replaced twice"):
        smoke_build("unet+probeconv@enc2+dsconv@enc*")


def test_fusion_merges_decoder_into_skip_before_concatenation(probes):
    built, size = smoke_build("unet+probefusion@skip3")
    model = built.model
    fusion = model.slots("skip3")[0].inserted[0]
    concatenated = []
    model.decoder[2].register_forward_pre_hook(lambda m, args: concatenated.append(args[0]))
    model(torch.randn(2, 3, size, size))
    (decoder_shape, skip_shape), = fusion.seen
    channels, side = model.insertion_points()["skip3"].channels, size // model.insertion_points()["skip3"].stride
    assert decoder_shape == skip_shape == (2, channels, side, side)
    assert torch.equal(concatenated[0][:, :channels], fusion.returned[0])


def test_attention_at_a_skip_point_acts_on_the_skip_tensor(probes):
    built, size = smoke_build("unet+zeros@skip1")
    concatenated = []
    built.model.decoder[0].register_forward_pre_hook(lambda m, args: concatenated.append(args[0]))
    built.model(torch.randn(2, 3, size, size))
    channels = built.model.insertion_points()["skip1"].channels
    assert not concatenated[0][:, :channels].any() and concatenated[0][:, channels:].any()


def test_insertions_at_one_point_apply_in_spec_order(probes):
    built, _ = smoke_build("unet+zeros@dec1+se@dec1:residual")
    (slot,) = built.model.slots("dec1")
    assert isinstance(slot, Slot) and slot.modes == ["after", "residual"]
    assert isinstance(slot.inserted[0], Zeros) and not isinstance(slot.inserted[1], Zeros)
    assert not slot(torch.randn(2, 8, 4, 4)).any()  # zeros, then x + se(x) = 0


def test_module_that_cannot_be_built_at_a_point_says_which_and_why(probes):
    with pytest.raises(SuiteError) as err:
        smoke_build("unet+needs64@enc1")
    message = str(err.value)
    assert "\n" not in message
    assert all(part in message for part in ("needs64", "enc1", "channels=8", "needs at least 64 channels"))
