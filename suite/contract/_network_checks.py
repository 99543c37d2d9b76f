"""Contract checks on a module inside the baselines, at every point that takes its kind, in every mode.

``placement`` builds a baseline's tiny (``smoke``) configuration with the module at all its fitting
points, the points dealt out to the kind's modes in turn, so one build covers every point and every
mode; one training-mode forward and backward then check that every point got a module of its own (a
builder that hands out one shared object fails), at each point the shape the module returns, that it
runs once per forward, the network's output shape, and that finite gradients reach the module's
parameters. ``identity`` builds the same points in the gated modes and checks that at initialisation
the network computes what the plain baseline computes. A failure names the baseline, point and mode.
"""

from __future__ import annotations

from functools import lru_cache

import torch
from torch import nn

from suite.baselines import BASELINES, Gate
from suite.contract._cases import Subject, expected_shape, size_text, smoke, smoke_points
from suite.contract._failure import ContractFailure
from suite.kinds import GATED, KINDS, input_stride, point_args


def fitting_points(subject: Subject, baseline: str) -> list[str]:
    """The points of ``baseline`` that take the subject's kind and give it a map it works on at the
    smoke image size."""
    catalog = BASELINES.entry(baseline).meta["catalog"]
    _, _, size, _ = smoke(baseline)
    points = smoke_points(baseline)
    found = []
    for name in catalog.points_of(subject.kind):
        side = int(size // input_stride(subject.kind, points[name]))
        if side * side >= subject.min_positions:
            found.append(name)
    return found


def modes_over_points(modes: tuple[str, ...], points: list[str]) -> dict[str, list[str]]:
    """Deal the points out to the modes in turn (enc1: after, enc2: residual, ...), one build for all."""
    return {mode: points[i :: len(modes)] for i, mode in enumerate(modes) if points[i :: len(modes)]}


def _spec(subject: Subject, baseline: str, by_mode: dict[str, list[str]]) -> str:
    return "+".join([baseline, *(f"{subject.name}@{','.join(points)}:{mode}" for mode, points in by_mode.items())])


def _build(spec: str, baseline: str):
    from suite.build import build_variant

    task, classes, size, settings = smoke(baseline)
    torch.manual_seed(0)
    return build_variant(spec, task, classes, 3, size, **settings), size


@lru_cache(maxsize=None)
def plain_output(baseline: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(input, output) of the plain smoke build from seed 0 in eval mode, shared by the checks."""
    built, size = _build(baseline, baseline)
    x = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        return x, built.model.eval()(x)


def _placed(model: nn.Module, point: str, kind: str) -> list[nn.Module]:
    """The modules placed at ``point`` (unwrapped from their gates): one, or one per residual block."""
    if KINDS[kind].swaps_block:
        return [model.get_submodule(model.block_path(point))]
    return [m.module if isinstance(m, Gate) else m for slot in model.slots(point) for m in slot.inserted]


def _open(model: nn.Module) -> None:
    """Zero-initialised norm gains and gates to nonzero values: timm zero-initialises the last norm of
    each residual branch, and a gate starts at 0, which by design passes no gradient to a module there
    at initialisation; opened, a zero gradient can only mean the module is not wired into the graph."""
    with torch.no_grad():
        for layer in model.modules():
            weight = getattr(layer, "weight", None)
            is_norm = isinstance(layer, (nn.modules.batchnorm._NormBase, nn.GroupNorm, nn.LayerNorm))
            if is_norm and weight is not None and not weight.any():
                weight.fill_(1.0)
            if isinstance(layer, Gate):
                layer.gate.fill_(0.5)


def placement(subject: Subject, baseline: str, points: list[str]) -> str:
    kind = subject.kind
    by_mode = modes_over_points(KINDS[kind].modes, points)
    built, size = _build(_spec(subject, baseline, by_mode), baseline)
    model = built.model
    mode_of = {point: mode for mode, pts in by_mode.items() for point in pts}
    at_point = {point: model.insertion_points()[point] for point in points}
    calls: dict[int, int] = {}
    where: list[str] = []

    def watch(point: str, module: nn.Module) -> None:
        label = f"{baseline} point {point} ({mode_of[point]})"

        def before(mod: nn.Module, args: tuple) -> None:
            calls[id(mod)] = calls.get(id(mod), 0) + 1
            where.append(label)

        def after(mod: nn.Module, args: tuple, out: object) -> None:
            where.pop()
            if not isinstance(out, torch.Tensor):
                raise ContractFailure(f"at {label}: returns {type(out).__name__}, not one tensor")
            features = args[1] if kind == "fusion" else args[0]
            wanted = tuple(features.shape)
            if KINDS[kind].swaps_block:
                args_ = point_args(kind, at_point[point])
                wanted = expected_shape(kind, args_, features.shape[0], tuple(features.shape[-2:]))
            if tuple(out.shape) != wanted:
                raise ContractFailure(
                    f"at {label}, map {size_text(tuple(features.shape[-2:]))}: output {tuple(out.shape)}, expected {wanted}"
                )

        module.register_forward_pre_hook(before)
        module.register_forward_hook(after)

    placed = {point: _placed(model, point, kind) for point in points}
    every = [m for modules in placed.values() for m in modules]
    if len({id(m) for m in every}) < len(every):
        raise ContractFailure(
            f"in {baseline}: one module object is placed at several points; the builder must return a new "
            "module on every call (points must not share weights)"
        )
    for point, modules in placed.items():
        for module in modules:
            watch(point, module)
    _open(model)
    torch.manual_seed(0)
    try:
        out = model.train()(torch.randn(2, 3, size, size))
    except ContractFailure:
        raise
    except Exception as err:  # noqa: BLE001  (what the module raised, and where)
        at = f"at {where[-1]}: " if where else ""
        raise ContractFailure(f"{at}{type(err).__name__}: {(str(err).strip().splitlines() or [''])[0][:300]}") from err
    _, plain = plain_output(baseline)
    if out.shape != plain.shape:
        raise ContractFailure(f"network output {tuple(out.shape)}, the plain {baseline}'s {tuple(plain.shape)}")
    for point, modules in placed.items():
        if any(calls.get(id(m)) != 1 for m in modules):
            raise ContractFailure(f"at {baseline} point {point}: the module ran {calls.get(id(modules[0]), 0)} times in one forward, not once")
    (out * torch.randn_like(out)).sum().backward()
    for point, modules in placed.items():
        grads = [p.grad for m in modules for p in m.parameters() if p.requires_grad]
        if any(g is None or not torch.isfinite(g).all() for g in grads):
            raise ContractFailure(f"at {baseline} point {point} ({mode_of[point]}): a parameter gets no finite gradient")
        if grads and not sum(g.abs().sum() for g in grads) > 0:
            raise ContractFailure(f"at {baseline} point {point} ({mode_of[point]}): every gradient is zero")
    return f"{len(points)} points in modes {', '.join(by_mode)}"


def gated_modes(kind: str) -> tuple[str, ...]:
    return tuple(mode for mode in KINDS[kind].modes if mode in GATED)


def identity(subject: Subject, baseline: str, points: list[str]) -> str:
    """In the gated modes at every fitting point, the variant's output at initialisation is the plain
    baseline's (built from the same seed, eval mode)."""
    by_mode = modes_over_points(gated_modes(subject.kind), points)
    built, _ = _build(_spec(subject, baseline, by_mode), baseline)
    x, plain = plain_output(baseline)
    with torch.no_grad():
        out = built.model.eval()(x)
    if out.shape != plain.shape or not torch.allclose(out, plain, rtol=1e-5, atol=1e-6):
        difference = (out - plain).abs().max().item() if out.shape == plain.shape else float("nan")
        raise ContractFailure(
            f"gated at {', '.join(points)}: the output at initialisation differs from the plain {baseline}'s "
            f"by up to {difference:.3g}"
        )
    return f"{len(points)} points in modes {', '.join(by_mode)}"
