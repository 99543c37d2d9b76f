"""Dataset readers, one per published layout, registered in ``DATASETS`` under the dataset's name.

A reader is ``(root: Path, card: Card) -> Scan``: it finds the files as the publisher distributes them
and reports what is wrong without decoding anything (see ``suite.datasets._scan``). ``@dataset(name)``
registers it with the task and card of ``datasets/<name>.yaml``, so a dataset exists only if it has both
a card and a reader, and the card's ``layout.reader`` names the reader function.
"""

from __future__ import annotations

from typing import Callable

from suite.datasets._cards import load_card
from suite.datasets._scan import Scan
from suite.registry import DATASETS

Reader = Callable[..., Scan]


def dataset(name: str) -> Callable[[Reader], Reader]:
    """Register a reader under ``name`` with meta ``task``, ``card`` and ``synthetic`` from its card."""
    card = load_card(name)
    return DATASETS.register(name, task=card.task, card=card, synthetic=card.synthetic)


from suite.datasets.readers import (  # noqa: E402,F401  (each module registers its readers on import)
    arrays,
    busi,
    cifar10,
    drive,
    folders,
    glas,
    shapes,
)

__all__ = ["DATASETS", "Reader", "dataset"]
