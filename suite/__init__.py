"""suite: does stitching this plug-and-play module into this network really make it better?

Paired k-fold benchmarks of module variants (``unet+se@decoder``) against their baselines. The Python
API (``suite.api``) is re-exported lazily, so ``import suite`` stays cheap::

    model = suite.build("resnet50+se@blocks", num_classes=10, image_size=224)
    attention = suite.module("cbam", channels=64)
    points = suite.points("unet")

``suite.build`` is also the module ``suite/build.py``; calling it calls ``suite.api.build``.
"""

import importlib

__version__ = "0.1.0"
__all__ = ["build", "module", "points"]


def __getattr__(name: str) -> object:
    if name == "build":
        return importlib.import_module("suite.build")  # a callable module: suite.build(spec, ...)
    if name in ("module", "points"):
        return getattr(importlib.import_module("suite.api"), name)
    raise AttributeError(f"module 'suite' has no attribute {name!r}")
