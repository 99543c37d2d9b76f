"""Multiply-accumulate counting on top of fvcore's ``FlopCountAnalysis``, with the gaps filled.

fvcore counts one fused multiply-add as one operation (its "flop" is a MAC) and traces the model with
``torch.jit``. Out of the box it skips ``aten::scaled_dot_product_attention``, the fused attention that
timm's ViT and Swin call, so a ViT's attention matmuls would go uncounted; ``sdpa_macs`` counts them.
A spatial ``aten::mean`` (the squeeze of SE and ECA) is counted like fvcore counts
``adaptive_avg_pool2d``: one per input element. torchvision's deformable convolution is counted like a
convolution (``deform_conv_macs``; the bilinear sampling of its inputs is not). Elementwise ops (add,
mul, activations, softmax) stay uncounted, as in fvcore and in published GMACs tables, and are reported
as unsupported.

Since attention gates are made of exactly those ops (sigmoid, multiply, softmax), ``elementwise_ops``
counts them apart: one op per output element of every pointwise ATen op and of softmax, seen through a
``TorchDispatchMode`` on one forward pass. That figure is reported next to the GMACs, never added to them.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections import Counter
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

with warnings.catch_warnings():
    # fvcore scripts a helper at import time, which current torch flags as deprecated.
    warnings.simplefilter("ignore", FutureWarning)
    from fvcore.nn import FlopCountAnalysis
    from fvcore.nn.jit_handles import elementwise_flop_counter, get_shape


def sdpa_macs(inputs: list[Any], outputs: list[Any]) -> int:
    """MACs of ``scaled_dot_product_attention(q, k, v)``: Q @ K^T plus softmax(.) @ V.

    q is (..., N, d), k is (..., S, d), v is (..., S, d_v): N*S*d + N*S*d_v MACs per leading index.
    A causal mask is not discounted (the kernels compute the full product in general).
    """
    query, key, value = (get_shape(v) for v in inputs[:3])
    leading = math.prod(query[:-1])  # batch * heads * N
    return leading * key[-2] * query[-1] + leading * key[-2] * value[-1]


def deform_conv_macs(inputs: list[Any], outputs: list[Any]) -> int:
    """MACs of ``torchvision::deform_conv2d(input, weight, offset, mask, ...)``: as a convolution, one
    multiply-add per output element per weight of its group (in_channels / groups * kh * kw)."""
    weight = get_shape(inputs[1])
    return math.prod(get_shape(outputs[0])) * math.prod(weight[1:])


EXTRA_HANDLES = {
    "aten::scaled_dot_product_attention": sdpa_macs,
    "aten::mean": elementwise_flop_counter(1, 0),
    "torchvision::deform_conv2d": deform_conv_macs,
}


def analyse(model: nn.Module, example: torch.Tensor) -> FlopCountAnalysis:
    """Trace ``model`` on ``example`` in eval mode without gradients; fvcore's log warnings silenced.

    The unsupported-op counts stay available through ``unsupported_ops()``.
    """
    analysis = FlopCountAnalysis(model, example).set_op_handle(**EXTRA_HANDLES)
    analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False).tracer_warnings("none")
    was_training = model.training
    fvcore_logger = logging.getLogger("fvcore")
    previous_level = fvcore_logger.level
    fvcore_logger.setLevel(logging.ERROR)
    try:
        model.eval()
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            analysis.total()  # runs the trace once; later queries reuse it
    finally:
        model.train(was_training)
        fvcore_logger.setLevel(previous_level)
    return analysis


def operator_macs(analysis: FlopCountAnalysis) -> dict[str, int]:
    """MACs per counted operator kind (conv, linear, scaled_dot_product_attention, ...)."""
    return dict(Counter(analysis.by_operator()).most_common())


def unsupported_ops(analysis: FlopCountAnalysis) -> dict[str, int]:
    """Uncounted op -> number of calls, most frequent first."""
    return dict(Counter(analysis.unsupported_ops()).most_common())


# Row-wise ops counted with the pointwise ones: one op per output element.
_SOFTMAX_OPS = (torch.ops.aten._softmax.default, torch.ops.aten._log_softmax.default)


class _ElementwiseCounter(TorchDispatchMode):
    """Counts the output elements of every pointwise ATen op (and softmax) run under it, per op name."""

    def __init__(self):
        super().__init__()
        self.elements: Counter = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if torch.Tag.pointwise in func.tags or func in _SOFTMAX_OPS:
            name = func.overloadpacket.__name__.strip("_")  # relu_ and relu, _softmax: one name each
            self.elements[name] += sum(t.numel() for t in tree_flatten(out)[0] if isinstance(t, torch.Tensor))
        return out


def elementwise_ops(model: nn.Module, example: torch.Tensor) -> dict[str, int]:
    """Element-wise ops of one forward pass of ``model`` on ``example`` (eval mode, no gradients), per op
    name, most first: one per output element of each pointwise op (mul, add, sigmoid, relu, ...) and softmax."""
    was_training = model.training
    counter = _ElementwiseCounter()
    try:
        model.eval()
        with torch.no_grad(), counter:
            model(example)
    finally:
        model.train(was_training)
    return dict(counter.elements.most_common())
