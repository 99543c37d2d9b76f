"""Baseline networks with named insertion points, registered in ``BASELINES``.

Builder contract (DESIGN.md): ``(task, num_classes, in_channels, image_size, **kwargs) -> nn.Module``.
The model exposes ``insertion_points() -> {name: Point}`` and a ``Slot`` at each point, identity until
``suite.build`` fills it; with nothing inserted it is bit-for-bit the library's network (same
parameters, same state_dict keys). Each entry records ``catalog`` (a ``PointCatalog``: point names,
groups and default points per module kind, fixed whatever the image size or width), ``tasks``,
``paper``, ``arxiv``, ``reference`` (how the plain network is made in its library) and, where a
library network exists, ``reference_model`` (a builder of that plain network, same signature);
``smoke`` holds the arguments of a tiny build (``image_size`` and builder kwargs) for tests and quick
checks.

Importing this package imports every baseline file, which registers it.
"""

from suite.baselines._arguments import DATA_ARGS, baseline_defaults, check_spec_arguments
from suite.baselines._catalog import PointCatalog
from suite.baselines._layout import NCHW, NHWC, Layout, Tokens
from suite.baselines._points import Point, PointsMixin
from suite.baselines._slots import SLOT_MODES, Gate, Slot
from suite.registry import BASELINES

from suite.baselines import resnet, resunet, swin, unet, vit  # noqa: E402,F401,I001  (registers on import)

__all__ = [
    "BASELINES",
    "DATA_ARGS",
    "Gate",
    "NCHW",
    "NHWC",
    "SLOT_MODES",
    "Layout",
    "Point",
    "PointCatalog",
    "PointsMixin",
    "Slot",
    "Tokens",
    "baseline_defaults",
    "check_spec_arguments",
]
