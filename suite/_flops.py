"""Multiply-accumulate counting on top of fvcore's ``FlopCountAnalysis``, with the gaps filled.

fvcore counts one fused multiply-add as one operation (its "flop" is a MAC) and traces the model with
``torch.jit``. Out of the box it skips ``aten::scaled_dot_product_attention``, the fused attention that
timm's ViT and Swin call, so a ViT's attention matmuls would go uncounted; ``sdpa_macs`` counts them.
A spatial ``aten::mean`` (the squeeze of SE and ECA) is counted like fvcore counts
``adaptive_avg_pool2d``: one per input element. Elementwise ops (add, mul, activations, softmax) stay
uncounted, as in fvcore and in published GMACs tables, and are reported as unsupported.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections import Counter
from typing import Any

import torch
from torch import nn

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


EXTRA_HANDLES = {
    "aten::scaled_dot_product_attention": sdpa_macs,
    "aten::mean": elementwise_flop_counter(1, 0),
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
