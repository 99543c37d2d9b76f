"""Building one module the checked way, and the resolved hyperparameters it carries.

``build_module`` builds a registered module at a point: the point supplies the leading arguments
(``suite.kinds``: per kind, e.g. ``channels`` or ``in_channels, out_channels, stride``), the user's
arguments are checked against the builder's keyword defaults by name and type first
(``suite._arguments``), so a typo or a wrong type is one ``SuiteError`` naming the module's arguments.
``with_hparams`` attaches what a builder resolved (e.g. hidden channels from the width at the point)
for ``suite inspect`` to show.
"""

from __future__ import annotations

from torch import nn

from suite._arguments import check_arguments, keyword_defaults
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
    return keyword_defaults(entry.obj, KINDS[entry.meta["kind"]].point_args)


def build_module(name: str, *point_args: int, **kwargs: object) -> nn.Module:
    """Build module ``name`` at a point (``point_args``: its kind's point arguments, in order).

    ``kwargs`` are the user's arguments (from a spec such as ``se(rd_ratio=0.25)``); each is checked
    against the builder's defaults by name and type (an int is accepted where a float is expected,
    an integral float where an int is) before the builder runs.
    """
    builder = MODULES.get(name)
    checked = check_arguments(f"module {name!r}", kwargs, module_defaults(name))
    return builder(*point_args, **checked)
