"""The element-wise ops that GMACs leave out.

That fvcore (``suite.cost.count_gmacs``) and ``torch.utils.flop_counter.FlopCounterMode`` agree on the
convolutions and matrix products of every registered module within 1% is the contract's ``cost`` check
(``suite.contract``, run on every module by tests/test_contract.py). Here the element-wise count
(``suite._flops.elementwise_ops``) is checked on modules whose gates can be counted by hand, and
``suite inspect`` must show it.
"""

from __future__ import annotations

import pytest
import torch

from suite import _flops
from suite.cost import count_gmacs, measure_cost
from suite.modules import build_module

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_se_gate_is_counted_element_by_element():
    """SE on (C, H, W): ReLU on its hidden units, a sigmoid per channel, a multiply per element."""
    module = build_module("se", 32).eval()
    counted = _flops.elementwise_ops(module, torch.randn(1, 32, 5, 7))
    hidden = module.fc1.out_channels
    assert counted == {"mul": 32 * 5 * 7, "sigmoid": 32, "relu": hidden}


@pytest.mark.parametrize("name", ["simam", "sge", "gct", "sa", "triplet"])
def test_attention_that_looks_free_in_gmacs_is_not_free_in_element_wise_ops(name):
    """Parameter-light gates add under 5% of one 3x3 conv's multiply-adds at the same width, but at least
    one element-wise op per input element."""
    module = build_module(name, 64)
    counted = count_gmacs(module, (1, 64, 16, 16))
    conv3x3_macs = 64 * 64 * 9 * 16 * 16
    assert counted.gmacs * 1e9 < 0.05 * conv3x3_macs
    assert counted.elementwise_mops * 1e6 >= 64 * 16 * 16


def test_element_wise_ops_of_a_variant_are_reported_over_its_baseline():
    from suite.build import build_variant

    built = build_variant("unet+se", "seg", 1, 3, 32, width=4)  # a build no other test caches a cost for
    plain = build_variant("unet", "seg", 1, 3, 32, width=4).model
    cost = measure_cost(built, (1, 3, 32, 32), latency=False, baseline=plain)
    gates = sum(p.channels * (32 // p.stride) ** 2 for p in built.placements)  # one multiply per gated element
    assert cost.elementwise_mops_added * 1e6 >= gates
    assert cost.elementwise_mops == pytest.approx(cost.baseline_elementwise_mops + cost.elementwise_mops_added)
    assert cost.to_dict()["elementwise_mops_added"] == cost.elementwise_mops_added
