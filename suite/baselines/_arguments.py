"""A baseline builder's own arguments (``width``, ``decoder_channels``, ...), apart from the data's.

Every baseline builder takes the data's arguments first (``DATA_ARGS``: task, classes, input channels,
image size); what follows, with its default, is the baseline's own and can be set in a spec
(``unet(width=18)``), a recipe (``model: {width: 16}``) or ``suite inspect --width``; ``pretrained``
only in a recipe.
"""

from __future__ import annotations

from suite._arguments import keyword_defaults
from suite.registry import BASELINES

DATA_ARGS = ("task", "num_classes", "in_channels", "image_size")
# Set in a recipe only (``--set model.pretrained=PATH``), never in a spec: the recipe records the weights
# file's SHA-256 and so keys every run on the weights, where a spec argument would key it on a path.
RECIPE_ONLY_ARGS = ("pretrained",)


def baseline_defaults(name: str) -> dict:
    """The builder arguments of baseline ``name`` a user may set in a spec, with their defaults."""
    return keyword_defaults(BASELINES.get(name), DATA_ARGS + RECIPE_ONLY_ARGS)
