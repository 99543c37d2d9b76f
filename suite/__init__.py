"""suite: does stitching this plug-and-play module into this network really make it better?

Paired k-fold benchmarks of module variants (``unet+se@decoder``) against their baselines.
"""

__version__ = "0.1.0"
