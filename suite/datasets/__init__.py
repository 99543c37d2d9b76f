"""Datasets: cards, readers of the published layouts, a decoded-tensor cache, k-fold manifests, batches.

- ``DATASETS``: registry of readers by dataset name (meta: ``task``, ``card``, ``synthetic``);
- ``load_dataset(name, root, image_size) -> LoadedDataset``: decode once, cache on disk and in memory;
- ``make_manifest(dataset, k, seed) -> Manifest``: the folds every variant of a grid shares;
- ``iterate_batches(...)``: float batches with joint image + mask augmentation on the tensors' device;
- ``fetch(card, root)``: download, checksum, safe unpacking; ``verify_dataset``: list what is wrong.
"""

from __future__ import annotations

from suite.datasets._cards import Card, card_names, cards_dir, load_card
from suite.datasets._download import fetch
from suite.datasets._paths import cache_root, resolve_root
from suite.datasets.batches import iterate_batches
from suite.datasets.cache import clear_memory_cache, load_dataset, scan_dataset
from suite.datasets.folds import Manifest, load_manifest, make_manifest
from suite.datasets.loaded import LoadedDataset
from suite.datasets.readers import DATASETS
from suite.datasets.verify import VerifyReport, verify_dataset

__all__ = [
    "DATASETS",
    "Card",
    "LoadedDataset",
    "Manifest",
    "VerifyReport",
    "cache_root",
    "card_names",
    "cards_dir",
    "clear_memory_cache",
    "fetch",
    "iterate_batches",
    "load_card",
    "load_dataset",
    "load_manifest",
    "make_manifest",
    "resolve_root",
    "scan_dataset",
    "verify_dataset",
]
