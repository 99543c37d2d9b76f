"""How each baseline is made wider: the width ladder a capacity-matched control climbs.

A ``WidthLadder`` describes a baseline's widths as a tuple of integer coordinates (channels per stage for
the U-Net and the ResNets, decoder channels for resunet, embedding and MLP widths for the transformers),
the multiple each coordinate must be (attention heads), which coordinates the fine search may move (the
largest effect first), and two translations: builder arguments -> coordinates (``read``) and
coordinates -> the simplest builder arguments that build them (``write``: ``width=9`` where every stage
follows the plain ladder, ``widths=(8,16,32,64,132)`` where one does not). ``suite.controls.capacity``
searches it; each baseline file registers its ladder as the ``widths`` entry of its metadata.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

Coordinates = tuple[int, ...]


@dataclass(frozen=True)
class WidthLadder:
    multiples: Coordinates  # each coordinate is a positive multiple of this
    fine_order: tuple[int, ...]  # coordinates the fine search adjusts, largest effect first
    read: Callable[[dict], Coordinates]  # builder kwargs (defaults filled) -> coordinates
    write: Callable[[Coordinates], dict]  # coordinates -> the builder kwargs that build them

    def scaled(self, base: Coordinates, width: int) -> Coordinates:
        """``base`` scaled so that its first coordinate becomes ``width``, each rounded to its multiple."""
        return tuple(
            multiple * max(1, round(value * width / base[0] / multiple))
            for value, multiple in zip(base, self.multiples)
        )


def doubling(first: int, stages: int) -> Coordinates:
    """The classic ladder: ``first`` channels, doubled at each stage."""
    return tuple(first * 2**k for k in range(stages))


def stage_ladder(stages: int, multiples: Coordinates | None = None) -> WidthLadder:
    """Per-stage widths set by ``width`` (doubling) or, stage by stage, by ``widths=(...)``."""

    def read(kwargs: dict) -> Coordinates:
        widths = kwargs.get("widths")
        return tuple(widths) if widths else doubling(kwargs["width"], stages)

    def write(coords: Coordinates) -> dict:
        return {"width": coords[0]} if coords == doubling(coords[0], stages) else {"widths": tuple(coords)}

    return WidthLadder(multiples or (1,) * stages, tuple(reversed(range(stages))), read, write)


def check_widths(baseline: str, widths: object, stages: int, multiples: Coordinates | None = None) -> None:
    """``widths``: None, or ``stages`` positive integers, each a multiple of its entry of ``multiples``."""
    from suite.errors import SuiteError

    if widths is None:
        return
    multiples = multiples or (1,) * stages
    ok = isinstance(widths, (tuple, list)) and len(widths) == stages
    ok = ok and all(type(w) is int and w > 0 and w % m == 0 for w, m in zip(widths, multiples))
    if not ok:
        rule = "" if set(multiples) == {1} else f", multiples of {multiples} (attention heads)"
        raise SuiteError(
            f"{baseline} widths must be {stages} positive whole numbers, one per stage{rule}, "
            f"e.g. widths=({','.join(map(str, doubling(multiples[0] * 8, stages)))}); got {widths!r}"
        )
