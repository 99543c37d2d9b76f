"""Building one module the checked way, and the resolved hyperparameters it carries.

``build_module`` builds a registered module at a point: the point supplies the leading arguments
(``suite.kinds``: per kind, e.g. ``channels`` or ``in_channels, out_channels, stride``), the user's
arguments are checked against the builder's keyword defaults by name and type first, so a typo or a
wrong type is one ``SuiteError`` naming the module's arguments. ``with_hparams`` attaches what a
builder resolved (e.g. hidden channels from the width at the point) for ``suite inspect`` to show.
"""

from __future__ import annotations

import inspect

from torch import nn

from suite.errors import SuiteError
from suite.kinds import KINDS
from suite.registry import MODULES


def with_hparams(module: nn.Module, **resolved: object) -> nn.Module:
    """Attach the resolved hyperparameters (e.g. hidden channels) to a built module and return it."""
    module.suite_hparams = dict(resolved)
    return module


def resolved_hparams(module: nn.Module) -> dict:
    return dict(getattr(module, "suite_hparams", {}))


def module_defaults(name: str) -> dict:
    """The user-settable keyword arguments of a module builder and their defaults (the arguments its
    kind takes from the point are not the user's)."""
    entry = MODULES.entry(name)
    from_point = KINDS[entry.meta["kind"]].point_args
    return {
        p.name: p.default
        for p in inspect.signature(entry.obj).parameters.values()
        if p.name not in from_point and p.default is not p.empty
    }


def build_module(name: str, *point_args: int, **kwargs: object) -> nn.Module:
    """Build module ``name`` at a point (``point_args``: its kind's point arguments, in order).

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
