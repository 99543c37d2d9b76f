"""Plug-in modules, one idea per file, registered in ``MODULES``.

Kinds and their builder signatures (DESIGN.md, "Registries and contracts"):

- ``attention``: ``(channels, **kwargs) -> nn.Module``, NCHW in, same shape out;
- ``conv``: ``(in_channels, out_channels, stride=1, **kwargs) -> nn.Module``, replaces a conv block;
- ``fusion``: ``(channels, **kwargs) -> nn.Module`` whose ``forward(decoder, skip)`` returns a tensor
  shaped like ``skip``; it takes the place of the plain skip connection before concatenation.

Every entry records ``kind``, ``paper`` (title) and ``arxiv``. Hyperparameters that depend on width are
resolved inside the builder from the channels at the point and attached with ``with_hparams`` so that
``suite inspect`` can show them.
"""

from __future__ import annotations

import inspect

from torch import nn

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


from suite.modules import se  # noqa: E402,F401  (registers on import)

__all__ = ["MODULES", "POINT_ARGS", "module_defaults", "resolved_hparams", "with_hparams"]
