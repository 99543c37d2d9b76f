"""Nested training subsets for small-data trials: the first ``fraction`` of one fixed order of a fold's
training part.

Each fold's training samples are put in one order, drawn from the split seed and the fold, and a
fraction takes the first ``ceil(fraction * n)`` of them. So the subsets are nested (the 10% subset lies
inside the 25% one, which lies inside the 50% one), the same on every machine, and shared by the
baseline and every variant of a cell. The validation fold is never touched: every fraction is scored on
the same images.

The order is stratified (systematic sampling within each class): the samples of class ``c`` get the
keys ``(r + u_c) / n_c`` for their random ranks ``r = 0 .. n_c - 1`` and one random offset ``u_c`` in
[0, 1), and the order sorts by key. Any prefix of it then holds each class within one sample of its
share. Classes are the labels for classification and the dataset's strata (e.g. BUSI's class) for
segmentation; without either the order is a plain permutation.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from suite.datasets.loaded import LoadedDataset
from suite.errors import SuiteError
from suite.registry import natural_key

_STREAM = 0x7375627365  # separates this random stream from every other use of the split seed


def subset_size(n_train: int, fraction: float) -> int:
    """Training samples a fold of ``n_train`` keeps at ``fraction``: ``ceil(fraction * n_train)``, at least 1."""
    if not 0 < fraction <= 1:
        raise SuiteError(f"a train fraction must lie in (0, 1], got {fraction}")
    return max(1, math.ceil(fraction * n_train - 1e-9))


def _strata(dataset: LoadedDataset) -> list[str] | None:
    if dataset.task == "cls":
        return [str(v) for v in dataset.targets.cpu().tolist()]
    return dataset.strata


def nested_order(train_idx: torch.Tensor, dataset: LoadedDataset, split_seed: int, fold: int) -> torch.Tensor:
    """``train_idx`` (positions into ``dataset``) in the stratified random order whose prefixes are the subsets."""
    positions = sorted(train_idx.tolist(), key=lambda i: natural_key(dataset.ids[i]))
    strata = _strata(dataset)
    labels = [strata[i] if strata is not None else "" for i in positions]
    rng = np.random.default_rng([_STREAM, split_seed, fold])
    keys = np.empty(len(positions))
    for label in sorted(set(labels)):
        members = np.array([j for j, name in enumerate(labels) if name == label])
        ranks = rng.permutation(len(members))
        keys[members] = (ranks + rng.random()) / len(members)
    tiebreak = rng.random(len(positions))
    order = np.lexsort((tiebreak, keys))
    return torch.tensor([positions[j] for j in order], dtype=torch.long)


def nested_subset(
    train_idx: torch.Tensor, dataset: LoadedDataset, fraction: float, split_seed: int, fold: int
) -> torch.Tensor:
    """The training positions a run at ``fraction`` trains on, sorted; all of ``train_idx`` at fraction 1."""
    if fraction == 1:
        return train_idx
    chosen = nested_order(train_idx, dataset, split_seed, fold)[: subset_size(len(train_idx), fraction)]
    return chosen.sort().values
