"""Gated insertion into a pretrained network: at step 0 the variant computes exactly what the pretrained
baseline computes, for every attention module at resnet18's default points (both gated modes), and for
a representative set on vit_tiny and swin_tiny (every module there runs as slow)."""

from __future__ import annotations

import pytest
import torch

from suite.build import build_variant
from suite.errors import SuiteError
from suite.modules import MODULES
from _weights_fixtures import TINY_RESNET, perturbed, save, trained_tiny_resnet

ATTENTION = [entry.name for entry in MODULES.entries() if entry.meta["kind"] == "attention"]
TRANSFORMER_SAMPLE = ("se", "cbam", "eca", "simam", "coord")  # channel, channel+spatial, 1-d conv, parameter-free, positional
TRANSFORMER_CELLS = [
    pytest.param(baseline, module, marks=() if module in TRANSFORMER_SAMPLE else pytest.mark.slow)
    for baseline in ("vit_tiny", "swin_tiny")
    for module in ATTENTION
]


@pytest.fixture(scope="module")
def resnet_file(tmp_path_factory) -> str:
    return str(save(trained_tiny_resnet(), tmp_path_factory.mktemp("resnet"), "resnet18")["safetensors"])


@pytest.fixture(scope="module")
def transformer_files(tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("transformers")
    files = {}
    for name in ("vit_tiny", "swin_tiny"):
        torch.manual_seed(1)
        files[name] = str(save(perturbed(build_variant(name, "cls", 10, 3, 32).model), folder, name)["pth"])
    return files


def _same_output_at_step_0(spec: str, weights: str, **build: object) -> None:
    baseline = spec.split("+")[0]
    plain = build_variant(baseline, **build, pretrained=weights).model.eval()
    torch.manual_seed(7)  # the inserted modules' random initialisation must not matter
    try:
        built = build_variant(spec, **build, pretrained=weights)
    except SuiteError as err:
        pytest.skip(f"{spec} is refused at this size: {err}")
    assert built.inserted and built.loaded_weights.loaded == plain.loaded_weights.loaded
    x = torch.randn(2, build["in_channels"], build["image_size"], build["image_size"], generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected, got = plain(x), built.model.eval()(x)
    assert torch.isfinite(expected).all()
    assert torch.allclose(got, expected, rtol=0, atol=1e-6), f"{spec}: {float((got - expected).abs().max())}"


@pytest.mark.parametrize("mode", ["gated", "gated_residual"])
@pytest.mark.parametrize("module", ATTENTION)
def test_gated_modules_leave_a_pretrained_resnet_unchanged_at_step_0(module, mode, resnet_file):
    _same_output_at_step_0(f"resnet18+{module}:{mode}", resnet_file, **TINY_RESNET)


@pytest.mark.parametrize("baseline,module", TRANSFORMER_CELLS)
def test_gated_modules_leave_a_pretrained_transformer_unchanged_at_step_0(baseline, module, transformer_files):
    _same_output_at_step_0(
        f"{baseline}+{module}:gated", transformer_files[baseline], task="cls", num_classes=10, in_channels=3, image_size=32
    )


def test_the_plain_after_form_does_change_a_pretrained_network(resnet_file):
    """The contrast that makes the gate worth having: SE inserted plainly rescales every block's output."""
    plain = build_variant("resnet18", **TINY_RESNET, pretrained=resnet_file).model.eval()
    built = build_variant("resnet18+se", **TINY_RESNET, pretrained=resnet_file).model.eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert not torch.allclose(built(x), plain(x), atol=1e-3)
