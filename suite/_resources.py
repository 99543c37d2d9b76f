"""Where the folders a user edits live: ``datasets/`` (cards), ``baselines/`` (recipes), ``variants/``
(variant sets) and ``dashboard/`` (the Streamlit app).

In a checkout or an editable install they sit next to the ``suite`` package; a wheel carries them
inside it as ``suite/_bundled/<name>`` (copied by ``setup.py`` at build time). The bundled copy wins
when it exists, so an installed package never picks up an unrelated ``datasets`` folder that happens
to sit next to it in site-packages.
"""

from __future__ import annotations

from pathlib import Path

import suite

PACKAGE = Path(suite.__file__).resolve().parent
BUNDLED = PACKAGE / "_bundled"
CHECKOUT = PACKAGE.parent


def folder(name: str) -> Path:
    """The folder ``name`` (datasets, baselines, variants or dashboard) this installation reads."""
    bundled = BUNDLED / name
    return bundled if bundled.is_dir() else CHECKOUT / name
