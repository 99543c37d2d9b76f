"""The module library, tested from the registry: what each module is, beyond its kind's contract.

The contract itself (shapes at odd, non-square and tiny maps, batch 1, gradients, channels_last with
bf16, seeds, params and GMACs, placement in every baseline) is ``suite.contract``, run on every
registered module by tests/test_contract.py, the checks ``suite check`` runs. Here: papers in the
metadata and docstrings, maps below ``min_positions`` refused, fusion with a coarser decoder,
width-dependent hyperparameters that grow with the channels, user arguments that change the module,
unknown or mistyped arguments as one-line errors, and each module's defining property.
"""

from __future__ import annotations

import inspect
import math
import re

import pytest
import torch

from suite.errors import SuiteError
from suite.kinds import KINDS
from suite.modules import MODULES, build_module, module_defaults, resolved_hparams

ALL = MODULES.list()
KIND_OF = {name: MODULES.entry(name).kind for name in ALL}
ATTENTION = [n for n in ALL if KIND_OF[n] == "attention"]
CONV = [n for n in ALL if KIND_OF[n] == "conv"]
FUSION = [n for n in ALL if KIND_OF[n] == "fusion"]
UP = [n for n in ALL if KIND_OF[n] == "up"]
DOWN = [n for n in ALL if KIND_OF[n] == "down"]
WIDTH_SCALED = [n for n in ALL if MODULES.entry(n).meta.get("width_hparams")]

# The factor the U-Net's up and down points give the builder (scale, stride).
FACTOR = 2

# One user setting per module that must change what gets built (parameters or outputs).
VARIATIONS = {
    "aff": {"rd_ratio": 0.5},
    "ag": {"inter_ratio": 0.25},
    "aspp": {"base_rate": 1},
    "bam": {"dilation": 2},
    "bat": {"block_size": 4},
    "bifpn": {"epsilon": 1.0},
    "blurpool": {"filt_size": 5},
    "carafe": {"up_kernel": 3},
    "cbam": {"rd_ratio": 0.25},
    "cca": {"rd_ratio": 0.5},
    "ceca": {"gamma": 1.0},
    "coord": {"rd_ratio": 0.25},
    "cpca": {"rd_ratio": 0.5},
    "danet": {"rd_ratio": 0.5},
    "dilated": {"dilation": 1},
    "dsconv": {"kernel_size": 5},
    "dysample": {"dynamic": True},
    "eca": {"gamma": 1.0},
    "ecam": {"rd_ratio": 0.5},
    "ela": {"kernel_size": 3},
    "ema": {"groups": 8},
    "ese": {"gate": "sigmoid"},
    "fca": {"frequencies": "low16"},
    "gam": {"rd_ratio": 0.5},
    "gc": {"fusion": "scale"},
    "gct": {"mode": "l1"},
    "ge": {"extent": 2},
    "ghost": {"ratio": 3},
    "glore": {"rd_ratio": 0.5},
    "halo": {"block_size": 4},
    "iaff": {"rd_ratio": 0.5},
    "lambda": {"r": 5},
    "lcbam": {"spatial_kernel_size": 3},
    "lska": {"kernel_size": 7},
    "nl": {"rd_ratio": 0.25},
    "pconv": {"n_div": 2},
    "pixelshuffle": {"icnr": False},
    "psa": {"layout": "sequential"},
    "resizeconv": {"mode": "nearest"},
    "sa": {"groups": 2},
    "scoord": {"rd_ratio": 0.5},
    "scsa": {"window_size": 2},
    "scse": {"combine": "max"},
    "se": {"rd_ratio": 0.25},
    "sge": {"groups": 4},
    "simam": {"e_lambda": 10.0},
    "sk": {"rd_ratio": 0.5},
    "spdconv": {"kernel_size": 1},
    "splat": {"radix": 4},
    "stridedconv": {"kernel_size": 5},
    "strip": {"rd_ratio": 0.5},
    "triplet": {"kernel_size": 3},
}

# Values each module must refuse with a SuiteError that names it.
INVALID = [
    ("aspp", {"dropout": 1.0}),
    ("aspp", {"base_rate": 0}),
    ("blurpool", {"filt_size": 4}),
    ("carafe", {"up_kernel": 4}),
    ("carafe", {"compressed_channels": 0}),
    ("cbam", {"spatial_kernel_size": 4}),
    ("coord", {"min_rd_channels": 0}),
    ("dilated", {"dilation": 0}),
    ("dsconv", {"kernel_size": 2}),
    ("dysample", {"groups": 0}),
    ("eca", {"gamma": 0.0}),
    ("ese", {"gate": "relu"}),
    ("gc", {"fusion": "multiply"}),
    ("ge", {"extent": 3}),
    ("ge", {"extent": 0, "extra_params": True}),
    ("pixelshuffle", {"kernel_size": 2}),
    ("resizeconv", {"mode": "area51"}),
    ("scse", {"combine": "multiply"}),
    ("simam", {"e_lambda": 0.0}),
    ("spdconv", {"kernel_size": 4}),
    ("stridedconv", {"kernel_size": 0}),
    ("bam", {"dilation": 0}),
    ("bat", {"block_size": 0}),
    ("bat", {"drop_rate": 1.0}),
    ("bifpn", {"epsilon": 0.0}),
    ("cca", {"recurrence": 0}),
    ("ela", {"kernel_size": 4}),
    ("ema", {"groups": 0}),
    ("fca", {"frequencies": "mid16"}),
    ("fca", {"dct_size": 10}),
    ("gam", {"kernel_size": 4}),
    ("gct", {"mode": "l3"}),
    ("ghost", {"ratio": 1}),
    ("halo", {"num_heads": 0}),
    ("lambda", {"r": 4}),
    ("lska", {"kernel_size": 9}),
    ("pconv", {"n_div": 0}),
    ("psa", {"layout": "diagonal"}),
    ("sa", {"groups": 0}),
    ("scsa", {"window_size": 0}),
    ("sge", {"groups": 0}),
    ("splat", {"radix": 0}),
    ("triplet", {"kernel_size": 2}),
] + [(n, {k: 0.0}) for n in ALL for k in module_defaults(n) if k.endswith("ratio")]


def point_args(name: str, channels: int, out_channels: int | None = None) -> tuple[int, ...]:
    """The builder's point arguments at ``channels`` wide (conv: stride 1; up and down: factor 2)."""
    out_channels = channels if out_channels is None else out_channels
    return {
        "attention": (channels,),
        "fusion": (channels,),
        "conv": (channels, out_channels, 1),
        "up": (channels, out_channels, FACTOR),
        "down": (channels, out_channels, FACTOR),
    }[KIND_OF[name]]


def run(name: str, module: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Forward ``x`` (as the decoder features, with ``x`` flipped over the batch as the skip, for fusion)."""
    return module(x, x.flip(0)) if KIND_OF[name] == "fusion" else module(x)


def source_doc(name: str) -> str:
    return inspect.getmodule(MODULES.get(name)).__doc__ or ""


def test_library_covers_every_kind():
    assert len(ALL) >= 50
    assert set(KIND_OF.values()) == set(KINDS)
    assert all(len(group) >= 2 for group in (CONV, FUSION, UP, DOWN))


@pytest.mark.parametrize("name", ALL)
def test_entry_names_its_paper_in_metadata_and_file_docstring(name):
    entry = MODULES.entry(name)
    assert entry.kind in KINDS
    assert isinstance(entry.paper, str) and entry.paper.strip()
    doc = source_doc(name)
    assert entry.paper in " ".join(doc.split())
    if entry.arxiv is None:
        assert entry.meta.get("reference") and entry.meta["reference"] in doc
    else:
        assert re.fullmatch(r"\d{4}\.\d{4,5}", entry.arxiv)
        assert entry.arxiv in doc


@pytest.mark.parametrize("name", [n for n in ALL if MODULES.entry(n).meta.get("min_positions", 1) > 1])
def test_a_map_below_min_positions_is_refused_in_one_line(name):
    """What the contract's shape checks leave out (maps below ``min_positions``) is refused, not crashed on."""
    minimum = MODULES.entry(name).meta["min_positions"]
    side = math.isqrt(minimum - 1)  # the largest square map below the minimum
    module = build_module(name, *point_args(name, 16))
    with pytest.raises(SuiteError, match=rf"{name} needs .*at least {minimum} positions"):
        run(name, module, torch.randn(2, 16, side, side))


@pytest.mark.parametrize("decoder_hw", [(8, 6), (4, 3)], ids=["same_size", "half_size"])
@pytest.mark.parametrize("channels", [16, 32])
@pytest.mark.parametrize("name", FUSION)
def test_fusion_returns_the_skip_shape(name, channels, decoder_hw):
    skip = torch.randn(2, channels, 8, 6)
    out = build_module(name, channels)(torch.randn(2, channels, *decoder_hw), skip)
    assert out.shape == skip.shape
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", WIDTH_SCALED)
def test_width_dependent_hparams_grow_with_channels(name):
    narrow = resolved_hparams(build_module(name, *point_args(name, 64)))
    wide = resolved_hparams(build_module(name, *point_args(name, 512)))
    for hparam in MODULES.entry(name).width_hparams:
        assert wide[hparam] > narrow[hparam], hparam


@pytest.mark.parametrize("name", ALL)
def test_modules_with_a_reduction_ratio_declare_width_hparams(name):
    if any(k.endswith("ratio") for k in module_defaults(name)):
        assert name in WIDTH_SCALED


@pytest.mark.parametrize("name", ALL)
def test_resolved_hparams_show_the_user_arguments(name):
    defaults = module_defaults(name)
    assert resolved_hparams(build_module(name, *point_args(name, 16))).items() >= defaults.items()
    variation = VARIATIONS.get(name, {})
    changed = resolved_hparams(build_module(name, *point_args(name, 16), **variation))
    assert changed.items() >= {**defaults, **variation}.items()


def test_simam_is_parameter_free():
    module = build_module("simam", 64)
    assert sum(p.numel() for p in module.parameters()) == 0
    flat = torch.full((1, 64, 4, 4), 3.0)  # no deviation from the mean: every weight is sigmoid(1/2)
    assert torch.allclose(module(flat), flat * torch.sigmoid(torch.tensor(0.5)))


def test_user_rd_ratio_widens_se():
    default = build_module("se", 64)
    wider = build_module("se", 64, rd_ratio=0.25)
    assert sum(p.numel() for p in wider.parameters()) > sum(p.numel() for p in default.parameters())


@pytest.mark.parametrize("name", ALL)
def test_user_arguments_change_the_built_module(name):
    if not module_defaults(name):
        assert name not in VARIATIONS
        return
    assert name in VARIATIONS, f"add a setting for {name!r} to VARIATIONS"
    x = torch.randn(2, 64, 8, 8)
    built = {}
    for label, kwargs in (("default", {}), ("varied", VARIATIONS[name])):
        torch.manual_seed(0)
        built[label] = build_module(name, *point_args(name, 64), **kwargs).eval()
    shapes = {label: [tuple(t.shape) for t in m.state_dict().values()] for label, m in built.items()}
    if shapes["default"] == shapes["varied"]:
        with torch.no_grad():
            outputs = {label: run(name, m, x) for label, m in built.items()}
            if torch.allclose(outputs["default"], outputs["varied"]):
                # Modules that start as the identity (GCT, zero-initialised gains): compare them with the
                # same trained-looking parameters.
                for label, module in built.items():
                    torch.manual_seed(1)
                    for parameter in module.parameters():
                        parameter.add_(0.5 * torch.randn_like(parameter))
                    outputs[label] = run(name, module, x)
        assert not torch.allclose(outputs["default"], outputs["varied"])


@pytest.mark.parametrize("name", ALL)
def test_unknown_argument_raises_with_the_valid_ones(name):
    with pytest.raises(SuiteError, match="no argument 'not_an_argument'") as err:
        build_module(name, *point_args(name, 16), not_an_argument=1)
    assert all(k in str(err.value) for k in module_defaults(name))
    with pytest.raises(TypeError):
        MODULES.get(name)(*point_args(name, 16), not_an_argument=1)


@pytest.mark.parametrize("name", [n for n in ALL if module_defaults(n)])
def test_mistyped_argument_raises(name):
    key, default = next(iter(module_defaults(name).items()))
    wrong = 3 if isinstance(default, str) else "abc"
    with pytest.raises(SuiteError, match=f"argument '{key}' takes .*, got"):
        build_module(name, *point_args(name, 16), **{key: wrong})


def test_numbers_are_coerced_to_the_default_type():
    se = build_module("se", 64, rd_ratio=1)
    assert isinstance(resolved_hparams(se)["rd_ratio"], float)
    dsconv = build_module("dsconv", 16, 16, 1, kernel_size=5.0)
    assert resolved_hparams(dsconv)["kernel_size"] == 5
    with pytest.raises(SuiteError):
        build_module("dsconv", 16, 16, 1, kernel_size=2.5)
    with pytest.raises(SuiteError):
        build_module("ge", 16, extra_params=1)


@pytest.mark.parametrize("name,kwargs", INVALID, ids=lambda v: v if isinstance(v, str) else str(v))
def test_invalid_values_raise_naming_the_module(name, kwargs):
    with pytest.raises(SuiteError, match=rf"^{name}\b"):
        build_module(name, *point_args(name, 16), **kwargs)


def test_nl_refuses_maps_too_large_for_its_attention_matrix():
    module = build_module("nl", 16)
    with pytest.raises(SuiteError, match=r"nl supports feature maps of at most 16384 positions"):
        module(torch.zeros(1, 16, 129, 128))


def test_attention_gate_only_scales_the_skip_down():
    skip = torch.randn(2, 16, 8, 8)
    out = build_module("ag", 16)(torch.randn(2, 16, 8, 8), skip)
    assert torch.all(out.abs() <= skip.abs())
    assert torch.all(torch.sign(out) == torch.sign(skip))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", ALL)
def test_runs_on_cuda(name):
    module = build_module(name, *point_args(name, 16)).cuda()
    out = run(name, module, torch.randn(2, 16, 6, 6, device="cuda"))
    assert out.is_cuda and torch.isfinite(out).all()


# --- up and down modules: what each one is, checked on its defining property -----------------------


def test_dysample_starts_as_bilinear_upsampling():
    module = build_module("dysample", 8, 8, 2)
    x = torch.randn(1, 8, 5, 7)
    with torch.no_grad():
        module.offset.weight.zero_()  # offsets start at std 0.001; at zero the positions are bilinear's
        out = module(x)
    bilinear = torch.nn.functional.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
    assert torch.allclose(out, bilinear, atol=1e-5)


def test_carafe_with_flat_kernels_spreads_the_neighbourhood_mean():
    module = build_module("carafe", 4, 4, 2, up_kernel=3).eval()
    with torch.no_grad():
        module.encode.weight.zero_()
        module.encode.bias.zero_()
        x = torch.randn(1, 4, 6, 5)
        out = module(x)
    box_mean = torch.nn.functional.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=True)
    assert torch.allclose(out, box_mean.repeat_interleave(2, 2).repeat_interleave(2, 3), atol=1e-5)


def test_pixelshuffle_icnr_starts_without_checkerboard():
    out = build_module("pixelshuffle", 8, 4, 2)(torch.randn(1, 8, 5, 6))
    corners = out[..., ::2, ::2]
    assert torch.equal(out, corners.repeat_interleave(2, 2).repeat_interleave(2, 3))
    plain = build_module("pixelshuffle", 8, 4, 2, icnr=False)(torch.randn(1, 8, 5, 6))
    assert not torch.equal(plain[..., ::2, ::2], plain[..., 1::2, 1::2])


def test_softpool_lies_between_average_and_max_pooling():
    x = 3 * torch.randn(2, 4, 8, 6)
    out = build_module("softpool", 4, 4, 2)(x)
    pool = torch.nn.functional
    assert torch.all(out <= pool.max_pool2d(x, 2) + 1e-5) and torch.all(out >= pool.avg_pool2d(x, 2) - 1e-5)
    assert torch.isfinite(build_module("softpool", 4, 4, 2)(1e4 * x)).all()


def test_haar_transform_keeps_the_energy_of_the_map():
    module = build_module("haar", 4, 4, 2)
    x = torch.randn(2, 4, 6, 8)
    bands = torch.nn.functional.conv2d(x, module.filters.repeat(4, 1, 1, 1), stride=2, groups=4)
    assert torch.allclose(bands.pow(2).sum(), x.pow(2).sum(), rtol=1e-5)


@pytest.mark.parametrize("name", ["blurpool", "softpool"])
def test_pooling_modules_are_parameter_free_where_the_channels_match(name):
    assert sum(p.numel() for p in build_module(name, 16, 16, 2).parameters()) == 0
    assert sum(p.numel() for p in build_module(name, 16, 32, 2).parameters()) > 0


def test_blurpool_is_less_shift_variant_than_max_pooling():
    """Zhang's point: the output of a one-pixel shift moves less with the blur than with max-pooling."""
    torch.manual_seed(0)
    x = torch.randn(8, 4, 32, 32)
    shifted = torch.roll(x, 1, dims=-1)
    pooled = build_module("blurpool", 4, 4, 2)
    blur_change = (pooled(x) - pooled(shifted)).abs().mean()
    max_change = (torch.nn.functional.max_pool2d(x, 2) - torch.nn.functional.max_pool2d(shifted, 2)).abs().mean()
    assert blur_change < 0.75 * max_change


# --- attention, conv and fusion modules written or adapted here: their defining properties -----------


def test_criss_cross_attention_sees_exactly_the_row_and_column_of_each_position():
    module = build_module("cca", 8, rd_ratio=1.0, recurrence=1)
    with torch.no_grad():
        module.gamma.fill_(1.0)
        x = torch.randn(1, 8, 4, 5)
        query, key, value = module.query(x), module.key(x), module.value(x)
        expected = torch.empty_like(x)
        for h in range(4):
            for w in range(5):
                seen = [(g, w) for g in range(4) if g != h] + [(h, v) for v in range(5)]  # itself once
                logits = torch.stack([(query[0, :, h, w] * key[0, :, a, b]).sum() for a, b in seen])
                weights = logits.softmax(dim=0)
                expected[0, :, h, w] = sum(wt * value[0, :, a, b] for wt, (a, b) in zip(weights, seen))
        assert torch.allclose(module(x), x + expected, atol=1e-5)


@pytest.mark.parametrize("name", ["gct", "danet", "cca"])
def test_modules_that_start_as_the_identity(name):
    x = torch.randn(2, 16, 6, 5)
    with torch.no_grad():
        assert torch.allclose(build_module(name, 16).eval()(x), x, atol=1e-6)


def test_fca_lowest_frequency_is_global_average_pooling():
    """FcaNet's theorem: the DC component of the 2D DCT is global average pooling up to a constant."""
    module = build_module("fca", 16, frequencies="low1")
    x = torch.randn(2, 16, 7, 7)
    spectrum = (x * module.filters).sum(dim=(2, 3))
    assert torch.allclose(spectrum, 7 * x.mean(dim=(2, 3)), atol=1e-5)


@pytest.mark.parametrize("name", ["halo", "bat"])
def test_blocked_attention_pads_only_maps_that_are_not_whole_blocks(name):
    """On a map of whole blocks the module is timm's layer itself; elsewhere it still keeps the shape."""
    torch.manual_seed(0)
    module = build_module(name, 16).eval()
    block = module.block_size if name == "halo" else module.ba.block_size
    whole = torch.randn(1, 16, 2 * block, block)
    with torch.no_grad():
        timm_forward = super(type(module), module).forward
        assert torch.equal(module(whole), timm_forward(whole))
        assert module(torch.randn(1, 16, block + 1, 3)).shape == (1, 16, block + 1, 3)


def test_repvgg_blocks_fold_into_single_convolutions():
    module = build_module("repvgg", 8, 16, 2).eval()
    x = torch.randn(2, 8, 9, 7)
    with torch.no_grad():
        torch.manual_seed(0)
        for layer in module.modules():  # trained-looking BatchNorm statistics, so the folding has work to do
            if isinstance(layer, torch.nn.BatchNorm2d):
                layer.running_mean.normal_()
                layer.running_var.uniform_(0.5, 2.0)
        multi_branch = module(x)
        for block in module:
            block.reparameterize()
        assert all(block.reparam_conv is not None for block in module)
        assert torch.allclose(module(x), multi_branch, atol=1e-4)


def test_dcn_starts_as_a_plain_convolution_at_half_strength():
    """DCNv2's initialisation: zero offsets and modulation sigmoid(0) = 0.5."""
    unit = build_module("dcn", 8, 16, 1).dcn1.eval()
    x = torch.randn(1, 8, 6, 7)
    with torch.no_grad():
        plain = torch.nn.functional.conv2d(x, unit.conv.weight, padding=1)
        assert torch.allclose(unit(x), unit.act(unit.norm(0.5 * plain)), atol=1e-5)


def test_pconv_convolves_only_its_partial_channels():
    block = build_module("pconv", 16, 16, 1)[0]  # the FasterNet block (no transition at equal widths)
    x = torch.randn(1, 16, 5, 5)
    partial = block.spatial_mixing(x)
    assert torch.equal(partial[:, 4:], x[:, 4:]) and not torch.equal(partial[:, :4], x[:, :4])


def test_bifpn_with_equal_weights_averages_its_inputs():
    module = build_module("bifpn", 8).eval()
    module.conv = torch.nn.Identity()  # look at the fusion itself
    skip, decoder = torch.randn(2, 8, 6, 6), torch.randn(2, 8, 6, 6)
    assert torch.allclose(module(decoder, skip), (skip + decoder) / (2 + module.epsilon), atol=1e-6)


@pytest.mark.parametrize("name", ["aff", "iaff"])
def test_attentional_fusion_chooses_between_skip_and_decoder(name):
    skip, decoder = torch.randn(2, 16, 8, 8), torch.randn(2, 16, 8, 8)
    out = build_module(name, 16)(decoder, skip)
    assert torch.all(out >= torch.minimum(skip, decoder) - 1e-6)
    assert torch.all(out <= torch.maximum(skip, decoder) + 1e-6)


def test_lambda_layer_computes_what_timms_does():
    from timm.layers.lambda_layer import LambdaLayer

    ours = build_module("lambda", 16).eval()
    reference = LambdaLayer(16, 16, num_heads=4, dim_head=16, r=9).eval()
    state = ours.state_dict()
    state["conv_lambda.weight"] = state["conv_lambda.weight"].unsqueeze(-1)  # timm's Conv3d weight is 5D
    reference.load_state_dict(state, strict=True)
    x = torch.randn(2, 16, 7, 5)
    with torch.no_grad():
        assert torch.allclose(ours(x), reference(x), atol=1e-5)
