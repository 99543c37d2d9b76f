"""Checking a user's keyword arguments against a builder's defaults: one rule for modules and baselines.

``se(rd_ratio=0.25)`` and ``unet(width=18)`` are checked the same way: every name must be one of the
builder's keyword arguments (else one line listing them), and each value must have its default's type.
An int is accepted where a float is expected, an integral float where an int is; a default of None
accepts anything; a tuple default (``resunet(decoder_channels=(64,32,16,16,8))``) takes a tuple whose
values have the type of its first value (how many is the builder's to check).
"""

from __future__ import annotations

import inspect
from typing import Callable, Iterable

from suite.errors import SuiteError

_TYPE_WORDS = {bool: "true or false", int: "a whole number", float: "a number", str: "a word"}
_PLURAL_WORDS = {bool: "true/false values", int: "whole numbers", float: "numbers", str: "words"}


def show_value(value: object) -> str:
    """A value as a spec writes it: true/false for booleans, ``(16,32)`` for a tuple, Python's repr otherwise."""
    if isinstance(value, (tuple, list)):
        return "(" + ",".join(map(show_value, value)) + ("," if len(value) == 1 else "") + ")"
    return str(value).lower() if isinstance(value, bool) else repr(value)


def keyword_defaults(builder: Callable, leading: Iterable[str]) -> dict:
    """The keyword arguments of ``builder`` with a default, leaving out the ``leading`` ones (supplied by
    the point or the data, never by the user)."""
    skipped = set(leading)
    return {
        p.name: p.default
        for p in inspect.signature(builder).parameters.values()
        if p.name not in skipped and p.default is not p.empty
    }


def unknown_argument(owner: str, key: str, defaults: dict) -> SuiteError:
    """``module 'se' has no argument 'x'; its arguments: rd_ratio=0.0625, ...``"""
    listed = ", ".join(f"{k}={show_value(v)}" for k, v in defaults.items()) or "none"
    return SuiteError(f"{owner} has no argument {key!r}; its arguments: {listed}")


def check_arguments(owner: str, given: dict, defaults: dict) -> dict:
    """``given`` checked by name and type against ``defaults`` and coerced to the defaults' types;
    ``owner`` names the builder in messages (``module 'se'``, ``baseline 'unet'``)."""
    checked = {}
    for key, value in given.items():
        if key not in defaults:
            raise unknown_argument(owner, key, defaults)
        checked[key] = coerce(owner, key, value, defaults[key])
    return checked


def coerce(owner: str, key: str, value: object, default: object) -> object:
    """``value`` as the type of ``default``, or a ``SuiteError`` naming the type; a tuple (or list)
    default takes a tuple whose values each take the type of the default's first value."""
    if isinstance(default, (tuple, list)):
        return _coerce_tuple(owner, key, value, tuple(default))
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
            f"{owner} argument {key!r} takes {_TYPE_WORDS.get(expected, 'a ' + expected.__name__)} "
            f"(default {key}={show_value(default)}), got {show_value(value)}"
        )
    return value


def _coerce_tuple(owner: str, key: str, value: object, default: tuple) -> tuple:
    """``value`` as a tuple whose values each take the type of the default's first value."""
    ok = isinstance(value, (tuple, list))
    items = tuple(value) if ok else ()
    if ok and default:
        try:
            items = tuple(coerce(owner, key, item, default[0]) for item in items)
        except SuiteError:
            ok = False
    if not ok:
        of = f" of {_PLURAL_WORDS.get(type(default[0]), 'values')}" if default else ""
        raise SuiteError(
            f"{owner} argument {key!r} takes a tuple{of} (default {key}={show_value(default)}), got {show_value(value)}"
        )
    return items
