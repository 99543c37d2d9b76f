"""Spec -> network: build the baseline, then place each inserted module at each of its points.

``build_variant("unet+se@decoder", "seg", 1, 3, 256, width=32)`` canonicalizes the spec (points
expanded, defaults dropped), builds the baseline and, for every insertion in spec order and every
point it names, builds the module with the point's channels and puts it in the point's slot:

- attention: ``builder(channels, **kwargs)``, applied after the point (``after``: x -> m(x)), around
  it (``residual``: x -> x + m(x)) or through a gate that starts at 0 (``gated``, ``gated_residual``:
  ``suite.baselines.Gate``); at a ``blocksK`` point one module per residual block. A composite
  (``(se|sa):wsum``) is built by ``suite.composite`` and placed like one attention module;
- conv, up, down: ``builder(in_channels, out_channels, stride or scale, **kwargs)`` takes the place of
  the point's block (a U-Net double conv, transposed conv or max-pool); a block is replaced at most once;
- fusion: ``builder(channels, **kwargs)``; its ``forward(decoder, skip)`` replaces the skip tensor
  (``replace``), or is mixed into it through a gate (``gated``).

The point-supplied arguments and modes of each kind come from ``suite.kinds``.

Baseline arguments: the keyword arguments given to ``build_variant`` (a recipe's ``model`` values, or
``suite inspect --width``) are laid under the spec's own (``unet(width=18)``): for that spec, the
spec's value wins. The recipe itself is unchanged, so a baseline and its variants still share it (and
its hash); a spec argument equal to what the recipe gives anyway is refused by the grid
(``check_recipe_arguments``), so one network under one recipe has one key.

Several insertions at one point apply in spec order. Every placement is recorded with the channels,
stride and layout it was built for, its resolved hyperparameters and its parameter count; the placed
modules themselves (``BuiltVariant.inserted``) are what a run trains at ``module_lr_mult``, and, with
pretrained weights (``model.pretrained``), the parameters a run records as new.

The module is callable: ``suite.build(spec, num_classes=..., image_size=...)`` is the Python API's
``build`` (an attribute ``build`` of the package would be replaced by this module on import).
"""

from __future__ import annotations

import inspect
import math
import sys
import types
from dataclasses import dataclass, field, replace

from torch import nn

from suite.baselines import BASELINES, DATA_ARGS, Gate, Point, PointsMixin
from suite.baselines._pretrained import WeightsLoad
from suite.composite import build_unit, describe, min_positions
from suite.errors import SuiteError
from suite.kinds import GATED, KINDS, input_stride, point_args, ungated_form
from suite.modules import build_module, module_defaults, resolved_hparams
from suite.spec import Composite, Insertion, Spec, canonical, format_value, insertion_kind, parse

# Input size a baseline is built at when none is given, per task (ImageNet-style for classification).
DEFAULT_IMAGE_SIZE = {"cls": 224, "seg": 256}
# Output classes when none are given: ImageNet's 1000 for classification, 1 foreground logit for segmentation.
DEFAULT_NUM_CLASSES = {"cls": 1000, "seg": 1}


@dataclass
class Placement:
    """One module placed at one point (at a ``blocksK`` point: one copy per block, counted together)."""

    module: str
    kind: str
    point: str
    mode: str
    channels: int  # channels at the point (a block-swapping module's out_channels)
    in_channels: int | None  # in_channels of a module that swaps a block (conv, up, down); else None
    stride: int  # input size / feature size at the point
    layout: str  # the point's tensor layout; the module itself always sees NCHW
    hparams: dict = field(default_factory=dict)  # module kwargs with defaults, plus width-derived ones
    params: int = 0  # parameters of the placed module (all copies, gates included); a replaced block's are not subtracted
    tree: dict | None = None  # a composite's members, fusion and parameters (suite.composite.describe); else None


@dataclass
class BuiltVariant:
    """A built network and what went into it."""

    model: nn.Module
    spec: Spec  # canonical
    key: str  # str(spec): the key results are stored under
    placements: list[Placement]
    params: int
    baseline_params: int
    baseline_kwargs: dict = field(default_factory=dict)  # what the baseline builder was given
    # The modules build_variant placed, in placement order: gates with what they gate, and a block-swapping
    # module itself; their parameters are what a run may train at its own learning rate (module_lr_mult).
    inserted: list[nn.Module] = field(default_factory=list)

    def inserted_parameters(self) -> list[nn.Parameter]:
        """The parameters of the inserted modules, each once, in the model's order."""
        return [p for _, p in self._inserted_named()]

    def inserted_parameter_names(self) -> list[str]:
        """The model's names of the inserted modules' parameters (``layer1.0.se.inserted.0.fc1.weight``)."""
        return [name for name, _ in self._inserted_named()]

    def _inserted_named(self) -> list[tuple[str, nn.Parameter]]:
        ids = {id(p) for module in self.inserted for p in module.parameters()}
        return [(name, p) for name, p in self.model.named_parameters() if id(p) in ids]

    @property
    def loaded_weights(self) -> WeightsLoad | None:
        """What the baseline took from its pretrained weights file; None without one (``model.pretrained``)."""
        return getattr(self.model, "loaded_weights", None)

    @property
    def params_added(self) -> int:
        """Net parameters over the plain baseline the spec is compared with (its recipe's build, without
        the spec's own baseline arguments; a block-swapping module's replaced block counted off)."""
        return self.params - self.baseline_params


def count_params(model: nn.Module) -> int:
    """Exact number of parameter elements (a parameter shared by two modules counts once)."""
    return sum(p.numel() for p in model.parameters())


def default_task(baseline: str) -> str:
    """The first task a baseline supports (``unet`` -> seg, ``resnet18`` -> cls)."""
    return BASELINES.entry(baseline).meta["tasks"][0]


def baseline_spec(spec: str | Spec) -> str:
    """The canonical spec of the plain baseline a variant is compared with: ``unet+se@enc1`` -> ``unet``.
    A spec with baseline arguments is a variant of the plain baseline too: ``unet(width=18)`` -> ``unet``."""
    name = (parse(spec) if isinstance(spec, str) else spec).baseline
    return BASELINES.entry(name).name


def check_recipe_arguments(spec: str | Spec, model: dict, where: str = "its recipe") -> None:
    """Refuse baseline arguments that change nothing under a recipe: equal to the recipe's ``model`` value,
    or to the builder's default where the recipe sets none. Under ``model: {width: 16}``,
    ``unet(width=16)+se`` is ``unet+se``; one network trained under one recipe has one key, so the spec
    that says it twice is refused in one line naming the argument and the spec to write instead."""
    from suite.baselines import baseline_defaults

    spec = canonical(spec)
    given = {**baseline_defaults(spec.baseline), **model}
    same = [(k, v) for k, v in spec.baseline_kwargs if _as_tuple(given.get(k)) == _as_tuple(v)]
    if same:
        kept = tuple(pair for pair in spec.baseline_kwargs if pair not in same)
        shown = ", ".join(f"{k}={format_value(v)}" for k, v in same)
        raise SuiteError(
            f"{spec} sets {shown}, which {where} gives {spec.baseline} anyway, so it is the same network as "
            f"{replace(spec, baseline_kwargs=kept)}: write that (a baseline argument names what differs)"
        )


def _as_tuple(value: object) -> object:
    return tuple(value) if isinstance(value, (list, tuple)) else value


def build_variant(
    spec: str | Spec,
    task: str,
    num_classes: int,
    in_channels: int,
    image_size: int,
    **baseline_kwargs: object,
) -> BuiltVariant:
    """Build ``spec`` for ``task`` with ``num_classes`` outputs on ``in_channels`` x ``image_size`` px images.

    ``baseline_kwargs`` go to the baseline builder (e.g. ``width`` for ``unet``), under the spec's own
    arguments. Raises ``SuiteError`` for a bad spec, bad build arguments, or a module that cannot be
    built at one of its points.
    """
    spec = canonical(spec)
    entry = BASELINES.entry(spec.baseline)
    _check_baseline_kwargs(spec.baseline, entry.obj, baseline_kwargs)
    data_args = (task, num_classes, in_channels, image_size)
    baseline_params = _plain_params(entry.obj, data_args, baseline_kwargs) if spec.baseline_kwargs else None
    baseline_kwargs = {**baseline_kwargs, **dict(spec.baseline_kwargs)}
    model = entry.obj(*data_args, **baseline_kwargs)
    baseline_params = count_params(model) if baseline_params is None else baseline_params
    points = model.insertion_points()
    replaced: dict[str, str] = {}  # point -> conv module that replaced its block
    placements, inserted = [], []
    for insertion in spec.insertions:
        for point in insertion.points:
            _check_map_size(insertion, spec.baseline, points[point], image_size)
            placement, placed = _place(model, spec.baseline, insertion, points[point], replaced)
            placements.append(placement)
            inserted.extend(placed)
    return BuiltVariant(
        model, spec, str(spec), placements, count_params(model), baseline_params, baseline_kwargs, inserted
    )


def _plain_params(builder: object, data_args: tuple, kwargs: dict) -> int:
    """Parameters of the plain baseline without the spec's own arguments (built on the meta device, so
    nothing is allocated): what a spec such as ``unet(width=18)`` is compared with."""
    import torch

    with torch.device("meta"):
        return count_params(builder(*data_args, **kwargs))


def _place(
    model: PointsMixin, baseline: str, insertion: Insertion, point: Point, replaced: dict[str, str]
) -> tuple[Placement, list[nn.Module]]:
    """The placement record and the modules placed (one per slot, gates included; or the swapped-in block)."""
    name = insertion.module
    kind = KINDS[insertion_kind(insertion)]
    mode = insertion.mode or kind.default_mode
    args = point_args(kind.name, point)
    if kind.swaps_block:
        if point.name in replaced:
            raise SuiteError(
                f"{baseline} point {point.name!r} has its {point.replace} replaced twice "
                f"({replaced[point.name]} and {name}); replace a block with one {kind.name} module"
            )
        replaced[point.name] = name
        modules = [_construct(insertion, baseline, point, kind.point_args, args)]
        model.replace_block(point.name, modules[0])
        placed = modules
    else:
        slots = model.slots(point.name)
        modules = [_construct(insertion, baseline, point, kind.point_args, args) for _ in slots]
        placed = [Gate(m, point.channels, ungated_form(kind.name, mode)) if mode in GATED else m for m in modules]
        for slot, module in zip(slots, placed):
            slot.fill(module, mode)
    composite = insertion.composite
    if composite is None:
        hparams = {**module_defaults(name), **dict(insertion.kwargs), **resolved_hparams(modules[0])}
    else:
        hparams = {"fusion": composite.fusion or "sum"} if composite.op == "parallel" else {}
    placement = Placement(
        module=name,
        kind=kind.name,
        point=point.name,
        mode=mode,
        channels=point.channels,
        in_channels=point.in_channels if kind.swaps_block else None,
        stride=point.stride,
        layout=point.layout,
        hparams=hparams,
        params=sum(count_params(m) for m in placed),
        tree=None if composite is None else describe(composite, modules[0]),
    )
    return placement, placed


def _check_map_size(insertion: Insertion, baseline: str, point: Point, image_size: int) -> None:
    """A module that needs a minimum map (entry meta ``min_positions``; a composite: the largest of its
    members') fails here, not mid-training. The map is the one the module receives (for an up module:
    the coarser one it upsamples)."""
    minimum = min_positions(insertion.unit)
    side = math.ceil(image_size / input_stride(insertion_kind(insertion), point))
    if side * side < minimum:
        raise SuiteError(
            f"{insertion.module} needs feature maps of at least {minimum} positions, but {baseline} point "
            f"{point.name!r} gives it {side}x{side} at image_size {image_size}; "
            "place it at a point with a larger map or use a larger image size"
        )


def _construct(insertion: Insertion, baseline: str, point: Point, arg_names: tuple[str, ...], args: tuple) -> nn.Module:
    """Build the insertion's module or composite (``suite.modules.build_module`` checks the kwargs); any
    failure becomes one line naming the module, the point and why."""
    name = insertion.module
    try:
        if isinstance(insertion.unit, Composite):
            return build_unit(insertion.unit, *args)
        return build_module(name, *args, **dict(insertion.kwargs))
    except Exception as err:  # noqa: BLE001  (a builder's own exception type says nothing to a user)
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0]
        shape = ", ".join(f"{arg}={value}" for arg, value in zip(arg_names, args))
        raise SuiteError(
            f"cannot build {name} at {baseline} point {point.name!r} ({shape}): {reason}; "
            f"choose other points or change {name}'s arguments"
        ) from err


def _check_baseline_kwargs(baseline: str, builder: object, kwargs: dict) -> None:
    accepted = [p for p in inspect.signature(builder).parameters if p not in DATA_ARGS]
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise SuiteError(
            f"{baseline} has no build argument {unknown[0]!r}; its arguments: {', '.join(accepted) or 'none'}"
        )


def build(
    spec: str,
    num_classes: int | None = None,
    image_size: int | None = None,
    *,
    task: str | None = None,
    in_channels: int = 3,
    plugins: list[str] = (),
    **baseline_kwargs: object,
) -> nn.Module:
    """The Python API's ``suite.build``: the network of ``spec`` (``unet+se@decoder``,
    ``unet(width=18)+(se|sa):wsum``), randomly initialised, as ``suite run`` trains it.

    ``task``: the baseline's first task by default; ``num_classes``: 1000 for cls, 1 for seg;
    ``image_size`` (px per side): 224 for cls, 256 for seg; ``plugins``: plugin files to load first;
    ``baseline_kwargs`` go to the baseline builder under the spec's own (``width=16``). The model has
    ``insertion_points()``.
    """
    return build_with_defaults(spec, num_classes, image_size, task, in_channels, plugins, **baseline_kwargs).model


def build_with_defaults(
    spec: str,
    num_classes: int | None = None,
    image_size: int | None = None,
    task: str | None = None,
    in_channels: int = 3,
    plugins: list[str] = (),
    **baseline_kwargs: object,
) -> BuiltVariant:
    """``build_variant`` with the defaults of the Python API and ``suite inspect`` (see ``build``)."""
    if plugins:
        from suite.plugins import use

        use(list(plugins))
    task = (task or default_task(parse(spec).baseline)).lower()
    if task not in DEFAULT_IMAGE_SIZE:
        raise SuiteError(f"unknown task {task!r}; tasks: {', '.join(DEFAULT_IMAGE_SIZE)}")
    num_classes = DEFAULT_NUM_CLASSES[task] if num_classes is None else num_classes
    image_size = DEFAULT_IMAGE_SIZE[task] if image_size is None else image_size
    return build_variant(spec, task, num_classes, in_channels, image_size, **baseline_kwargs)


class _CallableModule(types.ModuleType):
    """This module, callable: ``suite.build(spec, ...)`` calls ``build`` (the Python API), while
    ``suite.build.build_variant`` and the rest stay what they are. (Importing ``suite.build`` makes the
    package's attribute ``build`` this module, so the API's function could not keep the name.)"""

    def __call__(self, *args: object, **kwargs: object) -> nn.Module:
        return build(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
