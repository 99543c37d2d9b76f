"""Every module's multiply-adds, counted two ways, and the element-wise ops that GMACs leave out.

fvcore (``suite.cost.count_gmacs``) and ``torch.utils.flop_counter.FlopCounterMode`` must agree on the
convolutions and matrix products of every registered module within 1% (FlopCounterMode counts FLOPs =
2 x MACs). The element-wise count (``suite._flops.elementwise_ops``) is checked on modules whose gates
can be counted by hand, and ``suite inspect`` must show it.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from suite import _flops
from suite.cost import count_gmacs, measure_cost
from suite.modules import MODULES, build_module

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# fvcore operator kinds that are convolutions or matrix products: what FlopCounterMode counts too.
PRODUCTS = {"conv", "linear", "matmul", "einsum", "bmm", "addmm", "mm", "baddbmm", "scaled_dot_product_attention",
            "deform_conv2d"}
CHANNELS, SIDE = 64, 16  # a reference point: a width-64 U-Net's first level at 16 px (or a 256 px image's stride 16)
POINT_ARGS = {
    "attention": (CHANNELS,),
    "fusion": (CHANNELS,),
    "conv": (CHANNELS, CHANNELS, 1),
    "up": (CHANNELS, CHANNELS // 2, 2),
    "down": (CHANNELS, CHANNELS, 2),
}


class _SkipFusion(nn.Module):
    """A fusion module fed the decoder at half the skip's resolution, as one tensor input for counting."""

    def __init__(self, fusion: nn.Module):
        super().__init__()
        self.fusion = fusion

    def forward(self, skip: torch.Tensor) -> torch.Tensor:
        return self.fusion(skip[..., ::2, ::2], skip)


def _deform_conv_flops(input_shape, weight_shape, *args, out_shape=None, **kwargs) -> int:
    """FLOPs of torchvision's deformable convolution as of a convolution: 2 per multiply-add."""
    return 2 * math.prod(out_shape) * math.prod(weight_shape[1:])


def reference_module(name: str) -> nn.Module:
    module = build_module(name, *POINT_ARGS[MODULES.entry(name).kind])
    return (_SkipFusion(module) if MODULES.entry(name).kind == "fusion" else module).eval()


@pytest.mark.parametrize("name", MODULES.list())
def test_fvcore_and_torch_flop_counter_agree_on_convolutions_and_products(name):
    module = reference_module(name)
    shape = (1, CHANNELS, SIDE, SIDE)
    counted = count_gmacs(module, shape)
    fvcore_macs = sum(gmacs for op, gmacs in counted.by_operator.items() if op in PRODUCTS) * 1e9
    mapping = {torch.ops.torchvision.deform_conv2d: _deform_conv_flops}
    with torch.no_grad(), FlopCounterMode(display=False, custom_mapping=mapping) as counter:
        module(torch.zeros(shape))
    torch_macs = counter.get_total_flops() / 2
    assert fvcore_macs == pytest.approx(torch_macs, rel=0.01, abs=1.0)
    assert not [op for op in counted.unsupported if op in ("aten::bmm", "aten::matmul", "torchvision::deform_conv2d")]


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
