"""Where datasets are read from and where decoded caches and fold manifests are written.

- data root of dataset NAME: ``--data-root``, else ``$SUITE_DATA/NAME``, else ``<cache>/data/NAME``;
- cache folder: ``$SUITE_CACHE``, else the per-user cache folder (``platformdirs.user_cache_dir("suite")``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable

from platformdirs import user_cache_dir


def cache_root() -> Path:
    """Decoded-image caches, fold manifests and default data roots live here."""
    return Path(os.environ.get("SUITE_CACHE") or user_cache_dir("suite")).expanduser()


def resolve_root(name: str, root: str | Path | None = None) -> Path:
    """The folder (or file, for npz sets) dataset ``name`` is read from."""
    if root is not None:
        return Path(root).expanduser()
    if os.environ.get("SUITE_DATA"):
        return Path(os.environ["SUITE_DATA"]).expanduser() / name
    return cache_root() / "data" / name


def write_atomically(path: Path, payload: bytes | Callable[[BinaryIO], None]) -> None:
    """Write bytes (or let ``payload`` write to the open file) under a temporary name, then rename it:
    readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            if callable(payload):
                payload(out)
            else:
                out.write(payload)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
