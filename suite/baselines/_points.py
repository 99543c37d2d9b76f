"""Insertion points of a built baseline: ``Point`` (what is there) and ``PointsMixin`` (where it is).

``Point`` carries the facts a module builder needs at one named point: the channels of the tensor
there, the stride of that tensor relative to the input image, its layout and the module kinds it
accepts (taken from the baseline's static ``PointCatalog``). ``PointsMixin`` gives a network the
lookups ``suite.build`` uses: the slots of a point and, for points with a replaceable block, the
place of that block in the module tree.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from suite.baselines._catalog import PointCatalog
from suite.baselines._slots import Slot
from suite.registry import natural_key


@dataclass(frozen=True)
class Point:
    """One named insertion point of a built network."""

    name: str
    channels: int  # channels of the tensor at the point; for a replaceable block: its out_channels
    stride: int  # input image size / feature map size at the point (for a replaceable block: its output)
    layout: str  # "nchw" | "nhwc" | "tokens"; modules always see NCHW through an adapter
    kinds: tuple[str, ...]  # module kinds the point accepts
    in_channels: int | None = None  # input channels of the block a module would replace (conv, up, down)
    # The factor that block resamples by: its stride (conv, down builders get it as ``stride``), or
    # for an upsampling block its scale (up builders get it as ``scale``).
    block_stride: int | None = None
    replace: str | None = None  # what mode ``replace`` swaps here, e.g. "double conv block"


class PointsMixin:
    """Mixed into a baseline ``nn.Module``: declares its points and finds their slots and blocks.

    Subclasses call ``declare_point`` once per point after building their layers; slot and block
    locations are dotted submodule paths, so a deep copy or a pickled model stays consistent.
    """

    catalog: PointCatalog  # set by each baseline class
    loaded_weights = None  # the WeightsLoad of suite.baselines._pretrained when pretrained weights were loaded

    def declare_point(
        self,
        name: str,
        slots: list[str],
        channels: int,
        stride: int,
        layout: str = "nchw",
        block: str | None = None,
        block_in_channels: int | None = None,
        block_stride: int = 1,
        replace: str | None = None,
    ) -> None:
        """Record point ``name``: its slot paths and, where it has one, the path of its replaceable block."""
        if not hasattr(self, "_points"):
            self._points: dict[str, Point] = {}
            self._slot_paths: dict[str, tuple[str, ...]] = {}
            self._block_paths: dict[str, str] = {}
        self._points[name] = Point(
            name=name,
            channels=channels,
            stride=stride,
            layout=layout,
            kinds=self.catalog.kinds[name],
            in_channels=block_in_channels,
            block_stride=block_stride if block else None,
            replace=replace,
        )
        self._slot_paths[name] = tuple(slots)
        if block:
            self._block_paths[name] = block

    def insertion_points(self) -> dict[str, Point]:
        """Every point of the network in natural order (enc1, enc2, ..., enc10)."""
        return {name: self._points[name] for name in sorted(self._points, key=natural_key)}

    def slots(self, point: str) -> list[Slot]:
        """The slots of ``point``: one, or one per residual block for points like ``blocks2``."""
        return [self.get_submodule(path) for path in self._slot_paths[point]]

    def block_path(self, point: str) -> str | None:
        """Dotted path of the block that mode ``replace`` swaps at ``point`` (None: nothing to swap)."""
        return self._block_paths.get(point)

    def replace_block(self, point: str, module: nn.Module) -> None:
        path = self.block_path(point)
        if path is None:
            raise ValueError(f"point {point!r} has no replaceable block")
        self.set_submodule(path, module)
