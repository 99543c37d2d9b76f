"""Checks of a baseline builder's arguments, raising one-line ``SuiteError``s that name valid values."""

from __future__ import annotations

from suite.errors import SuiteError
from suite.registry import BASELINES

TASK_NAMES = {"cls": "classification", "seg": "segmentation"}


def check_build_args(
    baseline: str,
    task: str,
    in_channels: int,
    image_size: int,
    size_multiple: int = 1,
    size_hint: str = "",
    min_size: int | None = None,
) -> None:
    """Task among the baseline's tasks, a positive channel count, a positive ``image_size`` of at least
    ``min_size`` (default ``size_multiple``) that is a multiple of ``size_multiple`` (``size_hint`` says
    why, e.g. "four 2x poolings")."""
    tasks = BASELINES.entry(baseline).meta["tasks"]
    if task not in tasks:
        fitting = [e.name for e in BASELINES.entries() if task in e.meta["tasks"]]
        builds = " and ".join(f"{TASK_NAMES[t]} (task {t!r})" for t in tasks)
        raise SuiteError(
            f"{baseline} builds {builds} models, not task {task!r}; "
            + (f"{task} baselines: {', '.join(fitting)}" if fitting else f"tasks: {', '.join(TASK_NAMES)}")
        )
    if not _positive_int(in_channels):
        raise SuiteError(
            f"in_channels must be a positive integer (1 for grayscale, 3 for RGB), got {in_channels!r}"
        )
    if not _positive_int(image_size):
        raise SuiteError(f"image_size must be a positive integer (pixels per side), got {image_size!r}")
    reason = f" ({size_hint})" if size_hint else ""
    smallest = min_size or size_multiple
    if image_size < smallest:
        raise SuiteError(
            f"{baseline} needs image_size >= {smallest} px{reason}, got {image_size}; "
            f"pass --image-size {smallest} or more"
        )
    if image_size % size_multiple:
        examples = ", ".join(str(-(-size // size_multiple) * size_multiple) for size in (32, 64, 224))
        raise SuiteError(
            f"{baseline} needs image_size to be a multiple of {size_multiple}{reason}, "
            f"e.g. {examples}; got {image_size}"
        )


def check_positive_int(baseline: str, name: str, value: object, hint: str) -> None:
    """A builder keyword such as ``width``: a positive integer, else one line with a ``hint``."""
    if not _positive_int(value):
        raise SuiteError(f"{baseline} {name} must be a positive integer ({hint}), got {value!r}")


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
