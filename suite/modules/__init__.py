"""Plug-in modules, one idea per file, registered in ``MODULES``.

Kinds, their builder signatures and modes are in ``suite.kinds`` (attention, conv, fusion, up, down).
Every entry records ``kind``, ``paper`` (title) and ``arxiv`` (the id; ``None`` for a paper with no
arXiv version, which gives ``reference`` instead). Hyperparameters that depend on width are
resolved inside the builder from the channels at the point and attached with ``with_hparams`` (together
with the user's arguments) so that ``suite inspect`` can show them. Optional entry metadata:
``width_hparams`` (names of resolved hyperparameters that grow with the channels) and ``min_positions``
(the smallest feature map, in H*W positions, the module works on; 1 when absent).

``build_module`` (``_builder.py``) is the checked way to build one. This file only imports suite's own
module files (``_library.py``: each registers its modules), re-exports the public names and then loads
the modules from outside suite (``suite.plugins``: installed packages, ``SUITE_PLUGINS``), after
suite's own.
"""

from suite.modules._builder import build_module, module_defaults, resolved_hparams, with_hparams
from suite.registry import MODULES

from suite.modules import _library  # noqa: E402,F401  (suite's own modules register on import)

__all__ = ["MODULES", "build_module", "module_defaults", "resolved_hparams", "with_hparams"]

from suite.plugins import load_configured  # noqa: E402

load_configured()
