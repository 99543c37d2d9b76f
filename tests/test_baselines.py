"""Baselines: static catalogs, points that tell the truth about the tensors there, plain = library network.

Every test is generated from ``BASELINES``; each baseline is built in its registered ``smoke``
configuration (tiny images, tiny widths), so a new baseline is covered by registering it.
"""

from __future__ import annotations

import inspect
from functools import lru_cache

import pytest
import torch
from torch import nn

from suite.baselines import BASELINES, NHWC, Slot, Tokens
from suite.errors import SuiteError
from suite.kinds import KINDS

# Full-width siblings of resnet18 / vit_tiny: their builds cost seconds, so their heavier checks run as slow.
SLOW_BASELINES = {"resnet50", "vit_small"}
BASELINE_NAMES = BASELINES.list()
HEAVY_CHECKED = [
    pytest.param(name, marks=pytest.mark.slow) if name in SLOW_BASELINES else name for name in BASELINE_NAMES
]


def smoke_args(name: str, **overrides) -> tuple[tuple, dict]:
    """Builder arguments of the baseline's registered tiny configuration: ((task, classes, 3, size), kwargs)."""
    entry = BASELINES.entry(name)
    settings = {**entry.meta["smoke"], **overrides}
    image_size = settings.pop("image_size")
    task = entry.meta["tasks"][0]
    return (task, 3 if task == "cls" else 1, 3, image_size), settings


@lru_cache(maxsize=None)
def plain(name: str, image_size: int | None = None) -> nn.Module:
    """The plain tiny build, shared by the tests that only look at it (eval mode, hooks removed after use)."""
    args, kwargs = smoke_args(name) if image_size is None else smoke_args(name, image_size=image_size)
    return BASELINES.get(name)(*args, **kwargs).eval()


@pytest.mark.parametrize("name", BASELINE_NAMES)
def test_registration_meta_is_complete(name):
    meta = BASELINES.entry(name).meta
    assert set(meta["tasks"]) <= {"cls", "seg"} and meta["tasks"]
    assert meta["paper"] and meta["reference"] and "image_size" in meta["smoke"]
    assert meta["arxiv"].replace(".", "").isdigit()


@pytest.mark.parametrize("name", BASELINE_NAMES)
def test_catalog_groups_and_defaults_name_real_points(name):
    catalog = BASELINES.entry(name).meta["catalog"]
    for group, members in catalog.groups.items():
        assert members and set(members) <= set(catalog.names), group
        assert group not in catalog.kinds, f"group {group} shadows a point"
    for kind, target in catalog.defaults.items():
        points = catalog.expand(target)
        assert points and all(kind in catalog.kinds[p] for p in points), (kind, target)


def swaps_block(point) -> bool:
    """Whether a module at ``point`` takes the place of one of the network's blocks (conv, up, down)."""
    return any(KINDS[kind].swaps_block for kind in point.kinds)


@pytest.mark.parametrize("name", HEAVY_CHECKED)
def test_points_match_catalog_and_do_not_depend_on_size(name):
    catalog = BASELINES.entry(name).meta["catalog"]
    size = BASELINES.entry(name).meta["smoke"]["image_size"]
    points = plain(name).insertion_points()
    assert list(points) == catalog.names
    assert list(plain(name, 2 * size).insertion_points()) == catalog.names
    for point in points.values():
        assert point.kinds == catalog.kinds[point.name]
        replaceable = any(KINDS[kind].replaces for kind in point.kinds)
        assert (point.replace is not None) == replaceable
        assert (point.in_channels is not None) == swaps_block(point)


@pytest.mark.parametrize("name", HEAVY_CHECKED)
def test_points_describe_the_tensors_that_reach_them(name):
    """Channels, stride and layout of every point and its replaceable block, against a real forward pass."""
    model = plain(name)
    size = BASELINES.entry(name).meta["smoke"]["image_size"]
    points = model.insertion_points()
    at_slots: dict[str, list[torch.Size]] = {}
    at_blocks: dict[str, tuple[torch.Size, torch.Size]] = {}
    hooks = []
    for name_ in points:
        for slot in model.slots(name_):
            hooks.append(slot.register_forward_pre_hook(
                lambda m, args, p=name_: at_slots.setdefault(p, []).append(args[0].shape)
            ))
        if model.block_path(name_):
            hooks.append(model.get_submodule(model.block_path(name_)).register_forward_hook(
                lambda m, args, out, p=name_: at_blocks.__setitem__(p, (args[0].shape, out.shape))
            ))
    try:
        with torch.no_grad():
            model(torch.randn(2, 3, size, size))
    finally:
        for hook in hooks:
            hook.remove()
    for point in points.values():
        side = size // point.stride
        prefix = getattr(model.slots(point.name)[0].layout, "prefix", 0) if point.layout == "tokens" else 0
        expected = {
            "nchw": (2, point.channels, side, side),
            "nhwc": (2, side, side, point.channels),
            "tokens": (2, prefix + side * side, point.channels),
        }[point.layout]
        assert at_slots.get(point.name, []) == [expected] * len(model.slots(point.name)), point
        assert model.slots(point.name) or model.block_path(point.name), f"{point.name} has neither slot nor block"
        if point.name in at_blocks:
            block_in, block_out = at_blocks[point.name]
            assert block_in[1] == point.in_channels and block_out[1:] == expected[1:], point
            resampled = block_out[-1] // block_in[-1] if "up" in point.kinds else block_in[-1] // block_out[-1]
            assert point.block_stride == resampled, point
    assert set(at_blocks) == {p for p in points if swaps_block(points[p])}


@pytest.mark.parametrize("name", HEAVY_CHECKED)
def test_empty_slots_add_nothing(name):
    model = plain(name)
    slots = [m for m in model.modules() if isinstance(m, Slot)]
    assert slots and not any(s.filled for s in slots)
    assert sum(p.numel() for s in slots for p in s.parameters()) == 0
    assert not any(".inserted." in key or key.startswith("point_slots.") for key in model.state_dict())


@pytest.mark.parametrize("name", HEAVY_CHECKED)
def test_plain_baseline_is_the_library_network(name):
    """Same parameter count, same state_dict keys, and with the same weights the same outputs.

    Built for grayscale input, so the output shape is checked for a non-RGB stem too.
    """
    entry = BASELINES.entry(name)
    (task, classes, _, size), kwargs = smoke_args(name)
    ours = entry.obj(task, classes, 1, size, **kwargs).eval()
    x = torch.randn(2, 1, size, size)
    with torch.no_grad():
        out = ours(x)
    assert out.shape == ((2, classes) if task == "cls" else (2, classes, size, size))
    if "reference_model" not in entry.meta:
        pytest.skip(f"{name} is defined here, not in a library: {entry.meta['reference']}")
    reference = entry.meta["reference_model"](task, classes, 1, size, **kwargs).eval()
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in reference.parameters())
    assert list(ours.state_dict()) == list(reference.state_dict())
    reference.load_state_dict(ours.state_dict(), strict=True)
    with torch.no_grad():
        assert torch.equal(out, reference(x))


@pytest.mark.parametrize("name", BASELINE_NAMES)
def test_wrong_task_names_the_valid_tasks(name):
    entry = BASELINES.entry(name)
    args, kwargs = smoke_args(name)
    wrong = "seg" if entry.meta["tasks"] == ("cls",) else "cls"
    with pytest.raises(SuiteError) as err:
        entry.obj(wrong, *args[1:], **kwargs)
    message = str(err.value)
    assert "\n" not in message and repr(entry.meta["tasks"][0]) in message
    assert all(other in message for other in BASELINE_NAMES if wrong in BASELINES.entry(other).meta["tasks"])


@pytest.mark.parametrize("name", BASELINE_NAMES)
@pytest.mark.parametrize("in_channels", [0, -3, 2.5])
def test_bad_in_channels_is_a_user_error(name, in_channels):
    args, kwargs = smoke_args(name)
    with pytest.raises(SuiteError, match="in_channels must be a positive integer"):
        BASELINES.get(name)(args[0], args[1], in_channels, args[3], **kwargs)


@pytest.mark.parametrize("name", BASELINE_NAMES)
@pytest.mark.parametrize("image_size", [0, -32, 32.0])
def test_image_size_must_be_a_positive_integer(name, image_size):
    args, kwargs = smoke_args(name)
    with pytest.raises(SuiteError, match="image_size must be a positive integer"):
        BASELINES.get(name)(*args[:3], image_size, **kwargs)


@pytest.mark.parametrize(
    ("name", "image_size", "multiple", "kwargs"),
    [
        ("unet", 40, 16, {"width": 8}),
        ("resunet", 48, 32, {}),
        ("vit_tiny", 30, 4, {}),
        ("vit_tiny", 100, 16, {}),
        ("swin_tiny", 40, 16, {}),
        ("swin_tiny", 240, 32, {}),
    ],
)
def test_image_size_off_the_grid_names_the_multiple(name, image_size, multiple, kwargs):
    task = BASELINES.entry(name).meta["tasks"][0]
    with pytest.raises(SuiteError, match=f"multiple of {multiple}\\b") as err:
        BASELINES.get(name)(task, 1, 3, image_size, **kwargs)
    assert str(image_size) in str(err.value) and "\n" not in str(err.value)


# Points whose channels do not follow ``width``: timm's plain ResNet stem is 64 wide whatever the stages.
FIXED_WIDTH_POINTS = {name: {"stem"} for name in ("resnet18", "resnet34", "resnet50")}
WIDTH_BASELINES = [n for n in BASELINE_NAMES if "width" in inspect.signature(BASELINES.get(n)).parameters]


def test_width_baselines_cover_unet_and_resnets():
    assert {"unet", "resnet18", "resnet34", "resnet50"} <= set(WIDTH_BASELINES)


@pytest.mark.parametrize("name", WIDTH_BASELINES)
@pytest.mark.parametrize("width", [0, -8, 8.0])
def test_width_must_be_a_positive_integer(name, width):
    args, _ = smoke_args(name)
    with pytest.raises(SuiteError, match=f"{name} width must be a positive integer") as err:
        BASELINES.get(name)(*args, width=width)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("name", WIDTH_BASELINES)
def test_width_scales_every_point(name):
    args, _ = smoke_args(name)
    narrow = BASELINES.get(name)(*args, width=8).insertion_points()
    wide = BASELINES.get(name)(*args, width=16).insertion_points()
    scaled = {n for n in narrow if wide[n].channels == 2 * narrow[n].channels}
    assert scaled == set(narrow) - FIXED_WIDTH_POINTS.get(name, set())


def test_resunet_decoder_channels_need_five_entries():
    with pytest.raises(SuiteError, match="5 channel counts"):
        BASELINES.get("resunet")("seg", 1, 3, 32, decoder_channels=(16, 8))


def test_unet_width_is_the_first_block_and_doubles_per_stage():
    points = BASELINES.get("unet")("seg", 1, 3, 32, width=8).insertion_points()
    assert [points[f"enc{k}"].channels for k in range(1, 6)] == [8 * 2**k for k in range(5)]


def test_plain_unet_is_the_classic_network():
    """Nothing but the classic layers hold state: parameter-free 2x2 max-pools, 2x2 transposed convs."""
    model = plain("unet")
    assert {key.split(".")[0] for key in model.state_dict()} == {"encoder", "up", "decoder", "head"}
    assert all(isinstance(m, nn.MaxPool2d) and m.kernel_size == m.stride == 2 for m in model.down)
    assert all(isinstance(m, nn.ConvTranspose2d) and m.kernel_size == m.stride == (2, 2) for m in model.up)


@pytest.mark.parametrize(("name", "expansion"), [("resnet18", 1), ("resnet50", 4)])
def test_resnet_width_is_the_first_stage_and_doubles_per_stage(name, expansion):
    points = BASELINES.get(name)("cls", 10, 3, 32, width=16).insertion_points()
    assert points["stem"].channels == 64
    assert [points[f"stage{k}"].channels for k in range(1, 5)] == [16 * 2 ** (k - 1) * expansion for k in range(1, 5)]


def test_resnet_stem_follows_image_size():
    small = BASELINES.get("resnet18")("cls", 10, 3, 32)
    large = BASELINES.get("resnet18")("cls", 10, 3, 96)
    assert small.conv1.kernel_size == (3, 3) and small.conv1.stride == (1, 1)
    assert isinstance(small.maxpool, nn.Identity)
    assert large.conv1.kernel_size == (7, 7) and isinstance(large.maxpool, nn.MaxPool2d)
    assert small.insertion_points()["stage4"].stride == 8 and large.insertion_points()["stage4"].stride == 32


def test_tokens_adapter_leaves_the_class_token_alone():
    slot = Slot(Tokens(grid=(2, 3), prefix=1))
    slot.fill(_Ones(), "residual")
    tokens = torch.randn(2, 1 + 6, 4)
    out = slot(tokens)
    assert torch.equal(out[:, :1], tokens[:, :1])
    assert torch.allclose(out[:, 1:], tokens[:, 1:] + 1)


def test_tokens_adapter_maps_tokens_row_major_onto_the_grid():
    grid_seen = []
    slot = Slot(Tokens(grid=(2, 3), prefix=1))
    slot.fill(_Probe(grid_seen), "after")
    tokens = torch.arange(2 * 7 * 4, dtype=torch.float32).reshape(2, 7, 4)
    assert torch.equal(slot(tokens), tokens)
    (features,) = grid_seen
    assert features.shape == (2, 4, 2, 3)
    assert torch.equal(features[:, :, 1, 2], tokens[:, 1 + 1 * 3 + 2])


def test_nhwc_adapter_round_trip_and_channel_axis():
    grid_seen = []
    slot = Slot(NHWC())
    slot.fill(_Probe(grid_seen), "after")
    maps = torch.randn(2, 5, 6, 7)
    out = slot(maps)
    assert torch.equal(out, maps) and out.is_contiguous()
    assert grid_seen[0].shape == (2, 7, 5, 6)


def test_slot_applies_modules_in_order_and_modes():
    slot = Slot()
    slot.fill(_Ones(), "after")  # 0 -> 1
    slot.fill(_Double(), "residual")  # 1 -> 1 + 2 (the other order would give 1)
    x = torch.zeros(1, 2, 3, 3)
    assert torch.allclose(slot(x), torch.full_like(x, 3.0))


class _Ones(nn.Module):
    def forward(self, x):
        return torch.ones_like(x)


class _Double(nn.Module):
    def forward(self, x):
        return 2 * x


class _Probe(nn.Module):
    def __init__(self, seen: list):
        super().__init__()
        self.seen = seen

    def forward(self, x):
        self.seen.append(x.clone())
        return x
