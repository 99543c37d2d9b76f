"""Argument and input checks shared by the module builders.

Each failure is a ``SuiteError`` of one line that names the module, the argument and what would work.
"""

from __future__ import annotations

import torch

from suite.errors import SuiteError


def positive(module: str, name: str, value: float) -> None:
    if not value > 0:
        raise SuiteError(f"{module}: {name} must be > 0, got {value!r}")


def at_least(module: str, name: str, value: int, minimum: int) -> None:
    if value < minimum:
        raise SuiteError(f"{module}: {name} must be >= {minimum}, got {value!r}")


def odd_kernel(module: str, name: str, value: int) -> None:
    if value < 1 or value % 2 == 0:
        raise SuiteError(f"{module}: {name} must be an odd kernel size (1, 3, 5, 7, ...), got {value!r}")


def one_of(module: str, name: str, value: object, choices: tuple) -> None:
    if value not in choices:
        raise SuiteError(
            f"{module}: {name}={value!r} is not supported; choices: {', '.join(map(str, choices))}"
        )


def min_positions(module: str, x: torch.Tensor, minimum: int) -> None:
    """Raise when the feature map ``x`` (NCHW) has fewer than ``minimum`` spatial positions."""
    height, width = x.shape[-2:]
    if height * width < minimum:
        raise SuiteError(
            f"{module} needs feature maps of at least {minimum} positions (e.g. 1x{minimum}), "
            f"got {height}x{width}; place it at a point with a larger map or use a larger image size"
        )


def max_positions(module: str, x: torch.Tensor, maximum: int, why: str) -> None:
    """Raise when the feature map ``x`` (NCHW) has more than ``maximum`` spatial positions."""
    height, width = x.shape[-2:]
    if height * width > maximum:
        raise SuiteError(
            f"{module} supports feature maps of at most {maximum} positions ({why}), got {height}x{width}; "
            "place it at a coarser point (e.g. the bottleneck or the last stage)"
        )
