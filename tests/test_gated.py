"""Mode ``gated``: an insertion that is exactly the identity at initialisation and learns how much of the
module to mix in.

- attention, ``gated``: ``x + g * (m(x) - x)``; ``gated_residual``: ``x + g * m(x)``;
- fusion, ``gated``: ``skip + g * (m(decoder, skip) - skip)``;
- ``g``: one learned value per channel, 0 at initialisation. Block-swapping kinds have no gated mode.

That every attention and fusion module, gated at every point of every baseline, leaves the network's
output at initialisation equal to the baseline's is the contract's ``identity`` check
(tests/test_contract.py; the exhaustive part runs as slow).
"""

from __future__ import annotations

import pytest
import torch

from suite.baselines import Gate
from suite.build import build_variant
from suite.errors import SuiteError
from suite.kinds import GATED, KINDS, ungated_form
from suite.modules import build_module
from suite.spec import canonical, key


def test_each_kind_declares_its_gated_modes():
    assert KINDS["attention"].modes == ("after", "residual", "gated", "gated_residual")
    assert KINDS["fusion"].modes == ("replace", "gated")
    assert all(not set(GATED) & set(KINDS[k].modes) for k in ("conv", "up", "down"))
    assert ungated_form("attention", "gated") == "after" and ungated_form("attention", "gated_residual") == "residual"
    assert ungated_form("fusion", "gated") == "replace" and ungated_form("attention", "residual") == "residual"


@pytest.mark.parametrize("module", ["dsconv", "carafe", "haar"])
def test_kinds_that_swap_a_block_refuse_gated(module):
    with pytest.raises(SuiteError, match="cannot go in mode 'gated'"):
        canonical(f"unet+{module}:gated")


def test_gated_modes_are_kept_in_the_key():
    assert key("unet+se@dec1:gated") == "unet+se@dec1:gated"
    assert key("unet+se@dec1:GATED_RESIDUAL") == "unet+se@dec1:gated_residual"
    assert key("unet+ag@skip1:gated") == "unet+ag@skip1:gated" != key("unet+ag@skip1")


def _opened(gate: Gate, value: torch.Tensor) -> Gate:
    with torch.no_grad():
        gate.gate.copy_(value)
    return gate


def test_gated_after_is_the_identity_at_init_then_mixes_in_the_module():
    torch.manual_seed(0)
    se = build_module("se", 8).eval()
    gate = Gate(se, 8, "after").eval()
    x = torch.randn(2, 8, 5, 6)
    with torch.no_grad():
        assert torch.equal(gate(x), x), "exactly x at initialisation, whatever the module computes"
        g = torch.linspace(0, 1, 8)
        _opened(gate, g)
        assert torch.allclose(gate(x), x + g.view(1, -1, 1, 1) * (se(x) - x), atol=1e-6)
        gate.gate.fill_(1.0)
        assert torch.allclose(gate(x), se(x), atol=1e-6), "fully open: the plain after form"


def test_gated_residual_adds_a_gated_module_output():
    torch.manual_seed(0)
    se = build_module("se", 8).eval()
    gate = Gate(se, 8, "residual").eval()
    x = torch.randn(2, 8, 5, 6)
    with torch.no_grad():
        assert torch.equal(gate(x), x)
        g = torch.rand(8)
        _opened(gate, g)
        assert torch.allclose(gate(x), x + g.view(1, -1, 1, 1) * se(x), atol=1e-6)


def test_gated_fusion_mixes_the_merged_tensor_into_the_skip():
    torch.manual_seed(0)
    fusion = build_module("aff", 8).eval()
    gate = Gate(fusion, 8, "replace").eval()
    skip, decoder = torch.randn(2, 8, 4, 4), torch.randn(2, 8, 4, 4)
    with torch.no_grad():
        assert torch.equal(gate(skip, decoder), skip)
        _opened(gate, torch.full((8,), 0.25))
        assert torch.allclose(gate(skip, decoder), skip + 0.25 * (fusion(decoder, skip) - skip), atol=1e-6)


@pytest.mark.parametrize(
    "spec",
    ["resnet18+cbam@stage2:gated", "vit_tiny+se@block3:gated_residual", "unet+ag@skip2:gated",
     "unet+(se|sa):wsum@dec2:gated"],
)  # fmt: skip
def test_a_gated_network_computes_the_baselines_output_at_step_0_and_learns_its_gate(spec):
    """Identical (not only close) to the baseline built from the same seed; one optimizer step opens the gate."""
    baseline = spec.split("+")[0]
    size = 32
    torch.manual_seed(0)
    plain = build_variant(baseline, "seg" if baseline == "unet" else "cls", 2, 3, size, **_tiny(baseline)).model
    torch.manual_seed(0)
    built = build_variant(spec, "seg" if baseline == "unet" else "cls", 2, 3, size, **_tiny(baseline))
    model = built.model
    gates = [m for m in model.modules() if isinstance(m, Gate)]
    assert gates and all(not g.gate.any() for g in gates)
    assert built.placements[0].params == sum(sum(p.numel() for p in g.parameters()) for g in gates)
    x = torch.randn(4, 3, size, size)
    with torch.no_grad():
        assert torch.equal(model.eval()(x), plain.eval()(x))
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model(x).square().mean().backward()
    assert all(g.gate.grad is not None and g.gate.grad.abs().sum() > 0 for g in gates), "the gate learns"
    optimizer.step()
    with torch.no_grad():
        assert not torch.equal(model.eval()(x), plain.eval()(x))


def _tiny(baseline: str) -> dict:
    return {"width": 8} if baseline in ("unet", "resnet18") else {}
