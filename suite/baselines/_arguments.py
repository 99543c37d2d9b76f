"""A baseline builder's own arguments (``width``, ``decoder_channels``, ...), apart from the data's.

Every baseline builder takes the data's arguments first (``DATA_ARGS``: task, classes, input channels,
image size); what follows, with its default, is the baseline's own and can be set in a spec
(``unet(width=18)``), a recipe (``model: {width: 16}``) or ``suite inspect --width``; ``pretrained``
only in a recipe.
"""

from __future__ import annotations

from suite._arguments import check_arguments, keyword_defaults
from suite.errors import SuiteError
from suite.registry import BASELINES

DATA_ARGS = ("task", "num_classes", "in_channels", "image_size")
# Set in a recipe only (``--set model.pretrained=PATH``), never in a spec: the recipe records the weights
# file's SHA-256 and so keys every run on the weights, where a spec argument would key it on a path.
RECIPE_ONLY_ARGS = ("pretrained",)


def baseline_defaults(name: str) -> dict:
    """The builder arguments of baseline ``name`` a user may set in a spec, with their defaults."""
    return keyword_defaults(BASELINES.get(name), DATA_ARGS + RECIPE_ONLY_ARGS)


def check_spec_arguments(name: str, given: dict) -> dict:
    """A spec's arguments to baseline ``name``, checked and coerced (``suite._arguments``); a recipe-only
    argument is refused with the option that sets it."""
    for key in RECIPE_ONLY_ARGS:
        if key in given:
            raise SuiteError(
                f"{key} is a recipe setting, not a spec argument: write {name} and pass --set model.{key}=... "
                "(the recipe keys its runs on the weights file's SHA-256)"
            )
    return check_arguments(f"baseline {name!r}", given, baseline_defaults(name))
