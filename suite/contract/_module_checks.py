"""Contract checks on a module on its own, at its kind's reference points.

Each check builds the module afresh, runs it and raises ``ContractFailure`` with one line saying what
differs from the contract; anything the module itself raises is reported the same way. The checks:
output shape and finite values at odd, non-square and tiny maps (``shape``), batch 1 in eval mode
(``batch1``), gradients reaching the input and every parameter (``gradients``), a channels_last module
under bf16 autocast on CPU (``channels_last_bf16``), the same output from the same seed (``seed``),
params and GMACs counted by fvcore and matched by ``FlopCounterMode`` on convolutions and matrix
products (``cost``), and, opt-in, ``torch.compile`` giving the eager output (``compile``).
"""

from __future__ import annotations

import math

import torch

from suite.contract._cases import (
    BATCH_ONE_SIZE,
    COST_SIZE,
    GRADIENT_SIZE,
    Case,
    Subject,
    expected_shape,
    inputs,
    size_text,
)
from suite.contract._failure import ContractFailure

# fvcore operator kinds that are convolutions or matrix products: what FlopCounterMode counts too.
PRODUCTS = {"conv", "linear", "matmul", "einsum", "bmm", "addmm", "mm", "baddbmm", "scaled_dot_product_attention",
            "deform_conv2d"}  # fmt: skip


def _forward(subject: Subject, module: torch.nn.Module, args: tuple) -> torch.Tensor:
    out = module(*args)
    if not isinstance(out, torch.Tensor):
        raise ContractFailure(f"returns {type(out).__name__}, not one tensor")
    return out


def _expect(subject: Subject, case: Case, out: torch.Tensor, batch: int, size: tuple[int, int]) -> None:
    wanted = expected_shape(subject.kind, case.args, batch, size)
    if tuple(out.shape) != wanted:
        raise ContractFailure(f"output {tuple(out.shape)}, expected {wanted} ({subject.kind} contract)")
    if not torch.isfinite(out.float()).all():
        raise ContractFailure(f"output has {int((~torch.isfinite(out.float())).sum())} non-finite values")


def shape(subject: Subject, case: Case, size: tuple[int, int]) -> None:
    """Training mode, batch 2, at ``size``: the contract's shape, finite values."""
    torch.manual_seed(0)
    module = subject.build(*case.args).train()
    out = _forward(subject, module, inputs(subject.kind, case.args, 2, size))
    _expect(subject, case, out, 2, size)


def batch_one(subject: Subject, case: Case) -> None:
    """Eval mode without gradients, one image: the contract's shape, finite values."""
    torch.manual_seed(0)
    module = subject.build(*case.args).eval()
    with torch.no_grad():
        out = _forward(subject, module, inputs(subject.kind, case.args, 1, BATCH_ONE_SIZE))
    _expect(subject, case, out, 1, BATCH_ONE_SIZE)


def gradients(subject: Subject, case: Case) -> None:
    """A backward pass reaches the input and gives every parameter a finite gradient, not all zero."""
    torch.manual_seed(0)
    module = subject.build(*case.args).train()
    args = tuple(t.requires_grad_() for t in inputs(subject.kind, case.args, 2, GRADIENT_SIZE))
    out = _forward(subject, module, args)
    (out * torch.randn_like(out)).sum().backward()
    if not any(t.grad is not None and t.grad.abs().sum() > 0 for t in args):
        raise ContractFailure("no gradient reaches the input: the output does not depend on it")
    if any(t.grad is not None and not torch.isfinite(t.grad).all() for t in args):
        raise ContractFailure("the input's gradient has non-finite values")
    missing = [name for name, p in module.named_parameters() if p.requires_grad and p.grad is None]
    if missing:
        raise ContractFailure(f"no gradient reaches parameter {missing[0]}" + _more(missing))
    broken = [name for name, p in module.named_parameters() if p.grad is not None and not torch.isfinite(p.grad).all()]
    if broken:
        raise ContractFailure(f"parameter {broken[0]} has a non-finite gradient" + _more(broken))
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    if grads and not any(g.abs().sum() > 0 for g in grads):
        raise ContractFailure("every parameter's gradient is zero")


def _more(names: list[str]) -> str:
    return f" (and {len(names) - 1} more)" if len(names) > 1 else ""


def channels_last_bf16(subject: Subject, case: Case) -> None:
    """What a GPU recipe does to a network (channels_last, bf16 autocast), on CPU: the shape, finite."""
    torch.manual_seed(0)
    module = subject.build(*case.args).to(memory_format=torch.channels_last)
    args = tuple(t.to(memory_format=torch.channels_last) for t in inputs(subject.kind, case.args, 2, BATCH_ONE_SIZE))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = _forward(subject, module, args)
    _expect(subject, case, out, 2, BATCH_ONE_SIZE)


def seed(subject: Subject, case: Case) -> None:
    """Built twice from one seed, the module gives the same output on the same input (eval mode)."""
    args = inputs(subject.kind, case.args, 2, BATCH_ONE_SIZE)
    outputs = []
    for _ in range(2):
        torch.manual_seed(0)
        module = subject.build(*case.args).eval()
        with torch.no_grad():
            outputs.append(_forward(subject, module, args))
    if not torch.equal(*outputs):
        difference = (outputs[0] - outputs[1]).abs().max().item()
        raise ContractFailure(f"two builds from seed 0 differ by up to {difference:.3g}: the module draws from another RNG")


class _Counted(torch.nn.Module):
    """One tensor in: a fusion module fed the same map as decoder and skip, for the counters."""

    def __init__(self, module: torch.nn.Module, fusion: bool):
        super().__init__()
        self.module, self.fusion = module, fusion

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.module(x, x) if self.fusion else self.module(x)


def cost(subject: Subject, case: Case) -> str:
    """Params and GMACs at the reference point (batch 1); fvcore's multiply-adds on convolutions and
    matrix products within 1% of ``FlopCounterMode``'s. Returns the figures, labelled."""
    from torch.utils.flop_counter import FlopCounterMode

    from suite.build import count_params
    from suite.cost import count_gmacs

    torch.manual_seed(0)
    module = _Counted(subject.build(*case.args), subject.kind == "fusion").eval()
    shape_ = (1, case.args[0], *COST_SIZE)
    try:
        counted = count_gmacs(module, shape_)
    except Exception as err:  # noqa: BLE001  (fvcore traces with torch.jit: say why it could not)
        raise ContractFailure(f"fvcore cannot count its multiply-adds: {type(err).__name__}: {_first_line(err)}") from err
    products = sum(gmacs for op, gmacs in counted.by_operator.items() if op in PRODUCTS) * 1e9
    mapping = {torch.ops.torchvision.deform_conv2d: _deform_conv_flops}
    with torch.no_grad(), FlopCounterMode(display=False, custom_mapping=mapping) as counter:
        module(torch.zeros(shape_))
    reference = counter.get_total_flops() / 2
    if not math.isclose(products, reference, rel_tol=0.01, abs_tol=1.0):
        raise ContractFailure(
            f"fvcore counts {products:,.0f} multiply-adds in convolutions and matrix products, FlopCounterMode "
            f"{reference:,.0f}: an op suite's GMACs would miss"
        )
    hidden = [op for op in counted.unsupported if op in ("aten::bmm", "aten::matmul", "torchvision::deform_conv2d")]
    if hidden:
        raise ContractFailure(f"fvcore leaves {hidden[0]} uncounted")
    return (
        f"params {count_params(module):,} and {counted.gmacs:.4g} GMACs (1 multiply-add = 1 MAC) at {case.label}, "
        f"{size_text(COST_SIZE)} map, batch 1"
    )


def _deform_conv_flops(input_shape, weight_shape, *args, out_shape=None, **kwargs) -> int:
    """FLOPs of torchvision's deformable convolution as of a convolution: 2 per multiply-add."""
    return 2 * math.prod(out_shape) * math.prod(weight_shape[1:])


def compiled(subject: Subject, case: Case) -> None:
    """``torch.compile`` (inductor) gives the eager output within float tolerance (eval mode)."""
    torch.manual_seed(0)
    module = subject.build(*case.args).eval()
    args = inputs(subject.kind, case.args, 2, (8, 8))
    with torch.no_grad():
        eager = _forward(subject, module, args)
        try:
            out = torch.compile(module)(*args)
        except Exception as err:  # noqa: BLE001
            raise ContractFailure(f"torch.compile fails: {type(err).__name__}: {_first_line(err)}") from err
    if not torch.allclose(out, eager, rtol=1e-3, atol=1e-4):
        raise ContractFailure(f"compiled output differs from eager by up to {(out - eager).abs().max().item():.3g}")


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [""])[0][:300]
