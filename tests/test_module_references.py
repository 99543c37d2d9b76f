"""Modules against published networks: ResNet-50 with a module in every block, as timm builds it or as
the module's paper counts it.

timm builds ``resnet50`` with any of its attention layers in the blocks' ``se`` slot
(``block_args=dict(attn_layer=...)``), exactly where ``resnet50+MODULE@blocks`` puts ours: the two must
have the same parameters and, with the same weights, the same outputs. Papers that report ResNet-50 +
module in millions of parameters are checked to the digits they print.
"""

from __future__ import annotations

import pytest
import timm
import torch

from suite.build import build_variant

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# Our module (with the arguments that give timm's settings) -> timm's ``attn_layer`` name.
TIMM_ATTENTION = {"eca": "eca", "ceca": "ceca", "ecam": "ecam", "cbam": "cbam", "lcbam": "lcbam", "ela": "ela",
                  "scoord": "scoord", "gc(rd_ratio=0.125)": "gca", "gc(fusion=scale,rd_ratio=0.125)": "gc"}

# Our spec -> (ResNet-50 + module parameters in millions as the paper prints them, digits printed, source).
PAPER_PARAMS = {
    "resnet50+fca@blocks": (28.07, 2, "FcaNet, arXiv:2012.11879: FcaNet-50"),
    "resnet50+bam@stage1,stage2,stage3": (25.92, 2, "BAM, arXiv:1807.06514: ResNet50 + BAM on ImageNet"),
    "resnet50+triplet@blocks": (25.56, 2, "Triplet attention, arXiv:2010.03045: ResNet-50 + triplet attention"),
    "resnet50+eca@blocks": (25.56, 2, "ECA-Net, arXiv:1910.03151: ECA-Net50"),
}


def resnet50_with(spec: str):
    return build_variant(spec, "cls", 1000, 3, 224)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TIMM_ATTENTION))
def test_resnet50_with_module_in_every_block_is_timms(name):
    built = resnet50_with(f"resnet50+{name}@blocks")
    reference = timm.create_model("resnet50", pretrained=False, block_args=dict(attn_layer=TIMM_ATTENTION[name]))
    assert built.params == sum(p.numel() for p in reference.parameters())
    renamed = {k.replace(".se.inserted.0.", ".se."): v for k, v in built.model.state_dict().items()}
    reference.load_state_dict(renamed, strict=True)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(built.model.eval()(x), reference.eval()(x), rtol=0, atol=1e-5)


@pytest.mark.parametrize("spec", sorted(PAPER_PARAMS))
def test_resnet50_with_module_has_the_papers_parameter_count(spec):
    millions, digits, source = PAPER_PARAMS[spec]
    assert round(resnet50_with(spec).params / 1e6, digits) == millions, source
