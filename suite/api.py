"""The Python API: a variant, a module or a baseline's points for your own training code.

::

    import suite
    model = suite.build("resnet50+se@blocks", num_classes=10, image_size=224)   # an nn.Module
    attention = suite.module("cbam", channels=64)                              # one module
    suite.points("unet")                                                        # {name: Point}

``suite/__init__.py`` re-exports these names lazily, so ``import suite`` stays cheap. Plugin files in
``SUITE_PLUGINS`` and installed plugin packages are loaded with the module registry; ``plugins=`` loads
more files. Every mistake is a ``suite.errors.SuiteError`` of one line, as on the command line.
"""

from __future__ import annotations

from torch import nn

from suite.build import build, build_with_defaults
from suite.errors import SuiteError

__all__ = ["build", "module", "points"]


def module(name: str, plugins: list[str] = (), **arguments: object) -> nn.Module:
    """One module (``cbam``, ``se(rd_ratio=0.25)`` or a composite ``(se|sa):wsum``) built for a point.

    ``arguments`` hold the point's arguments of the module's kind (``channels=64`` for attention and
    fusion; ``in_channels``, ``out_channels`` and ``stride`` or ``scale`` for conv, down and up) and the
    module's own (``rd_ratio=0.25``), which may also be written in ``name``.
    """
    from suite.composite import build_unit
    from suite.kinds import KINDS
    from suite.modules import build_module
    from suite.spec import Composite, canonical_unit, unit_kind

    _load(plugins)
    unit = canonical_unit(name)
    wanted = KINDS[unit_kind(unit)].point_args
    missing = [arg for arg in wanted if arg not in arguments]
    if missing:
        example = ", ".join(f"{arg}=64" for arg in wanted)
        raise SuiteError(
            f"{unit} is {KINDS[unit_kind(unit)].a_module}: give {', '.join(missing)}, "
            f"e.g. suite.module({name!r}, {example})"
        )
    point = [arguments.pop(arg) for arg in wanted]
    if isinstance(unit, Composite):
        if arguments:
            raise SuiteError(
                "a composite takes its members' arguments in its text, e.g. (se(rd_ratio=0.25)|sa); "
                f"got {', '.join(arguments)}"
            )
        return build_unit(unit, *point)
    return build_module(unit.name, *point, **{**dict(unit.kwargs), **arguments})


def points(
    baseline: str,
    *,
    task: str | None = None,
    image_size: int | None = None,
    num_classes: int | None = None,
    plugins: list[str] = (),
    **baseline_kwargs: object,
) -> dict:
    """The insertion points of ``baseline`` (``unet``, ``unet(width=16)``) as built with these arguments:
    ``{name: Point(channels, stride, layout, kinds, ...)}`` in natural order."""
    from suite.spec import parse

    if parse(baseline).insertions:
        raise SuiteError(f"suite.points takes a baseline, not a variant: {parse(baseline).baseline}")
    built = build_with_defaults(baseline, num_classes, image_size, task, 3, plugins, **baseline_kwargs)
    return built.model.insertion_points()


def _load(paths: list[str]) -> None:
    from suite.plugins import use

    if paths:
        use(list(paths))
