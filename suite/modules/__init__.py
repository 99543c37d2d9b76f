"""Plug-in modules, one idea per file, registered in ``MODULES``.

Kinds and their builder signatures (DESIGN.md, "Registries and contracts"):

- ``attention``: ``(channels, **kwargs) -> nn.Module``, NCHW in, same shape out;
- ``conv``: ``(in_channels, out_channels, stride=1, **kwargs) -> nn.Module``, replaces a conv block;
- ``fusion``: ``(channels, **kwargs) -> nn.Module`` whose ``forward(decoder, skip)`` returns a tensor
  shaped like ``skip``; it takes the place of the plain skip connection before concatenation.

Every entry records ``kind``, ``paper`` (title) and ``arxiv`` (the id; ``None`` for a paper with no
arXiv version, which gives ``reference`` instead). Hyperparameters that depend on width are
resolved inside the builder from the channels at the point and attached with ``with_hparams`` (together
with the user's arguments) so that ``suite inspect`` can show them. Optional entry metadata:
``width_hparams`` (names of resolved hyperparameters that grow with the channels) and ``min_positions``
(the smallest feature map, in H*W positions, the module works on; 1 when absent).

``build_module`` is the checked way to build one: unknown arguments and values of the wrong type raise a
one-line ``SuiteError`` naming the module's arguments and their defaults.
"""

from __future__ import annotations

import inspect

from torch import nn

from suite.errors import SuiteError
from suite.registry import MODULES

# Builder arguments that the point supplies, not the user.
POINT_ARGS = ("channels", "in_channels", "out_channels", "stride")


def with_hparams(module: nn.Module, **resolved: object) -> nn.Module:
    """Attach the resolved hyperparameters (e.g. hidden channels) to a built module and return it."""
    module.suite_hparams = dict(resolved)
    return module


def resolved_hparams(module: nn.Module) -> dict:
    return dict(getattr(module, "suite_hparams", {}))


def module_defaults(name: str) -> dict:
    """The user-settable keyword arguments of a module builder and their defaults."""
    signature = inspect.signature(MODULES.get(name))
    return {
        p.name: p.default
        for p in signature.parameters.values()
        if p.name not in POINT_ARGS and p.default is not p.empty
    }


def build_module(name: str, *point_args: int, **kwargs: object) -> nn.Module:
    """Build module ``name`` at a point (``channels`` or ``in_channels, out_channels, stride``).

    ``kwargs`` are the user's arguments (from a spec such as ``se(rd_ratio=0.25)``); each is checked
    against the builder's defaults by name and type (an int is accepted where a float is expected,
    an integral float where an int is) before the builder runs.
    """
    builder = MODULES.get(name)
    defaults = module_defaults(name)
    checked = {}
    for key, value in kwargs.items():
        if key not in defaults:
            raise SuiteError(
                f"module {name!r} has no argument {key!r}; its arguments: "
                f"{', '.join(f'{k}={_show(v)}' for k, v in defaults.items()) or 'none'}"
            )
        checked[key] = _coerce(name, key, value, defaults[key])
    return builder(*point_args, **checked)


def _coerce(module: str, key: str, value: object, default: object) -> object:
    expected = type(default)
    if expected is bool:
        ok = isinstance(value, bool)
    elif expected is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        if isinstance(value, float) and value.is_integer():
            value, ok = int(value), True
    elif expected is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    else:
        ok = default is None or isinstance(value, expected)
    if not ok:
        raise SuiteError(
            f"module {module!r} argument {key!r} takes {_TYPE_WORDS.get(expected, expected.__name__)} "
            f"(default {key}={_show(default)}), got {_show(value)}"
        )
    return value


_TYPE_WORDS = {bool: "true or false", int: "a whole number", float: "a number", str: "a word"}


def _show(value: object) -> str:
    """A value as a spec writes it: true/false for booleans, Python's repr otherwise."""
    return str(value).lower() if isinstance(value, bool) else repr(value)


from suite.modules import (  # noqa: E402,F401  (each registers its modules on import)
    ag,
    aff,
    aspp,
    cbam,
    coord,
    dilated,
    dsconv,
    eca,
    ese,
    gc,
    ge,
    lcbam,
    nl,
    scse,
    se,
    simam,
    sk,
)

__all__ = ["MODULES", "POINT_ARGS", "build_module", "module_defaults", "resolved_hparams", "with_hparams"]
