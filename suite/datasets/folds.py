"""k-fold manifests: which sample ids validate in which fold, made once per (dataset, k, seed) and reused.

The splitter is scikit-learn's, chosen by what the data has:

==================  ===========================  =====================================
task / data         splitter                     what it keeps
==================  ===========================  =====================================
ordered (slices)    KFold(shuffle=False)         contiguous blocks of the id order
labels, groups      StratifiedGroupKFold         class balance, groups whole
labels              StratifiedKFold              per-class counts within one of even
groups              GroupKFold(shuffle=True)     groups whole
neither             KFold(shuffle=True)          sizes within one of even
==================  ===========================  =====================================

Ordered sets (a card's ``groups.order: slice``, e.g. the ISBI-2012 stack, whose neighbouring sections
look alike) get contiguous blocks, so a validation slice's neighbours are not in its training part; the
split seed then changes nothing. ``Manifest.kind`` names the kind of split, and every run records it.

Labels are the classes (classification) or the dataset's strata (e.g. BUSI's class). Samples are put
in natural id order before splitting, each fold's ids are sorted, and the JSON is written with fixed
formatting, so the same data, k and seed give the same bytes on every machine. A manifest that exists
is reused as it is (its hash is what results record), even if a newer scikit-learn would split
differently. Files: ``<cache>/folds/<dataset>/k<k>-seed<seed>-<hash of the ids>.json``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from suite.datasets._paths import cache_root, write_atomically
from suite.datasets.loaded import LoadedDataset
from suite.errors import DataError
from suite.registry import natural_key

FORMAT = 1


@dataclass(frozen=True)
class Manifest:
    dataset: str
    k: int
    seed: int
    folds: list[list[str]]  # validation ids of each fold
    sha256: str  # of the manifest file's exact bytes
    path: Path
    splitter: str = ""

    @property
    def kind(self) -> str:
        """contiguous, grouped + stratified, stratified, grouped or random (from the splitter)."""
        return fold_kind(self.splitter)

    @property
    def total(self) -> int:
        return sum(len(fold) for fold in self.folds)

    def n_val(self, fold: int) -> int:
        return len(self.folds[fold])

    def n_train(self, fold: int) -> int:
        return self.total - self.n_val(fold)

    def split(self, fold: int, ids: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """(train, val) index tensors into a dataset whose sample ids are ``ids``."""
        if not 0 <= fold < self.k:
            raise DataError(f"fold {fold} does not exist in {self.path}; folds are 0..{self.k - 1}")
        if len(ids) != self.total or set(ids) != {i for f in self.folds for i in f}:
            raise DataError(
                f"manifest {self.path} was made for other samples of {self.dataset} ({self.total} ids) than these "
                f"({len(ids)}); run `suite data folds {self.dataset}` on this data"
            )
        validation = set(self.folds[fold])
        chosen = torch.tensor([i in validation for i in ids])
        positions = torch.arange(len(ids))
        return positions[~chosen], positions[chosen]


def _labels(dataset: LoadedDataset) -> list[str] | None:
    if dataset.task == "cls":
        return [str(v) for v in dataset.targets.cpu().tolist()]
    return dataset.strata


CONTIGUOUS = "KFold(shuffle=False, contiguous in slice order)"
_KINDS = {
    CONTIGUOUS: "contiguous",
    "StratifiedGroupKFold(shuffle=True)": "grouped + stratified",
    "StratifiedKFold(shuffle=True)": "stratified",
    "GroupKFold(shuffle=True)": "grouped",
    "KFold(shuffle=True)": "random",
}


def fold_kind(splitter: str) -> str:
    """The kind of split a manifest's splitter makes ("unrecorded" for a manifest that does not say)."""
    return _KINDS.get(splitter, "unrecorded")


def _splitter(k: int, seed: int, labels: list | None, groups: list | None, ordered: bool = False):
    from sklearn.model_selection import GroupKFold, KFold, StratifiedGroupKFold, StratifiedKFold

    if ordered:
        return KFold(n_splits=k, shuffle=False)
    if labels is not None and groups is not None:
        return StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    if labels is not None:
        return StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    if groups is not None:
        return GroupKFold(n_splits=k, shuffle=True, random_state=seed)
    return KFold(n_splits=k, shuffle=True, random_state=seed)


def _check(dataset: LoadedDataset, k: int) -> None:
    if k < 2:
        raise DataError(f"k={k} folds cannot give a validation split; use k=2 or more (5 is usual)")
    if len(dataset) < k:
        raise DataError(f"{dataset.name} has {len(dataset)} samples, fewer than k={k} folds; use k <= {len(dataset)}")
    if dataset.groups is not None and len(set(dataset.groups)) < k:
        count = len(set(dataset.groups))
        raise DataError(
            f"{dataset.name} has {count} groups of related samples, fewer than k={k} folds; use k <= {count} "
            "(a group never spans two folds)"
        )


def manifest_bytes(dataset: LoadedDataset, k: int, seed: int) -> bytes:
    """The manifest's exact bytes."""
    _check(dataset, k)
    labels, groups = _labels(dataset), dataset.groups
    order = sorted(range(len(dataset)), key=lambda i: natural_key(dataset.ids[i]))
    ids = [dataset.ids[i] for i in order]
    y = np.array([labels[i] for i in order]) if labels is not None else None
    g = np.array([groups[i] for i in order]) if groups is not None else None
    ordered = dataset.order == "slice"
    splitter = _splitter(k, seed, labels, groups, ordered)
    try:
        splits = list(splitter.split(np.zeros(len(ids)), y, g))
    except ValueError as err:  # e.g. every class has fewer members than folds
        raise DataError(f"cannot make {k} folds of {dataset.name}: {str(err).rstrip('.')}; use fewer folds") from None
    folds = [sorted((ids[i] for i in validation), key=natural_key) for _, validation in splits]
    name = CONTIGUOUS if ordered else type(splitter).__name__ + "(shuffle=True)"
    payload = {
        "format": FORMAT,
        "dataset": dataset.name,
        "k": k,
        "seed": seed,
        "splitter": name,
        "n": len(ids),
        "folds": folds,
    }
    return (json.dumps(payload, indent=1, ensure_ascii=True) + "\n").encode("ascii")


def _inputs_hash(dataset: LoadedDataset) -> str:
    """Hash of what the split depends on: ids, their labels and groups (not the pixels), and the order
    for an ordered set (left out otherwise, so the manifests of unordered sets keep their names)."""
    rows = sorted(
        zip(dataset.ids, _labels(dataset) or [None] * len(dataset), dataset.groups or [None] * len(dataset)),
        key=lambda row: natural_key(row[0]),
    )
    payload: object = rows if dataset.order is None else {"order": dataset.order, "rows": rows}
    return hashlib.sha256(json.dumps(payload).encode()).hexdigest()[:12]


def load_manifest(path: Path) -> Manifest:
    raw = path.read_bytes()
    try:
        payload = json.loads(raw)
        return Manifest(
            dataset=payload["dataset"],
            k=payload["k"],
            seed=payload["seed"],
            folds=payload["folds"],
            sha256=hashlib.sha256(raw).hexdigest(),
            path=path,
            splitter=payload.get("splitter", ""),
        )
    except (ValueError, KeyError, TypeError):
        raise DataError(f"fold manifest {path} is damaged; delete it and run again to make a new one") from None


def make_manifest(dataset: LoadedDataset, k: int, seed: int, cache_dir: str | Path | None = None) -> Manifest:
    """Find or write the manifest of (dataset, k, seed) and return it with the SHA-256 of its bytes."""
    folder = Path(cache_dir) if cache_dir is not None else cache_root() / "folds" / dataset.name
    path = folder / f"k{k}-seed{seed}-{_inputs_hash(dataset)}.json"
    if not path.is_file():
        write_atomically(path, manifest_bytes(dataset, k, seed))
    manifest = load_manifest(path)
    if manifest.k != k or manifest.seed != seed or manifest.dataset != dataset.name:
        raise DataError(f"fold manifest {path} is for another dataset, k or seed; delete it and run again")
    return manifest
