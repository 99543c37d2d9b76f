"""CIFAR-10 through ``torchvision.datasets.CIFAR10``: python pickle batches in ``cifar-10-batches-py/``.

The 50,000 training images are the fold pool (folds stratified by class); the 10,000 images of
``test_batch`` are the official test split. torchvision's per-file MD5 checks are replaced by existence
checks: the archive's MD5 is verified when ``suite data fetch`` downloads it, and the decoded cache is
keyed by a hash of the batch files' contents.
"""

from __future__ import annotations

import pickle
from functools import cache
from pathlib import Path

import torch

from suite.datasets._cards import Card
from suite.datasets._decode import resize_images
from suite.datasets._scan import Scan, Split, is_empty, layout_error, locate
from suite.datasets.readers import dataset
from suite.errors import DataError

FOLDER = "cifar-10-batches-py"  # torchvision's CIFAR10.base_folder
BATCH_FILES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"]


@cache
def _batches_class() -> type:
    """torchvision's reader with MD5 checks reduced to "the file is there" (see the module docstring).

    Made on first use: importing torchvision takes seconds, and most commands never read CIFAR-10.
    """
    from torchvision.datasets import CIFAR10

    class Batches(CIFAR10):
        train_list = [[name, None] for name, _ in CIFAR10.train_list]
        test_list = [[name, None] for name, _ in CIFAR10.test_list]
        meta = {**CIFAR10.meta, "md5": None}

    return Batches


def _split(root: Path, train: bool, size: int) -> tuple[Split, list[str]]:
    folder = root / FOLDER
    try:
        batches = _batches_class()(str(root), train=train)
    except (OSError, EOFError, pickle.UnpicklingError, KeyError, ValueError, RuntimeError) as err:
        raise DataError(
            f"cannot read the CIFAR-10 batches in {folder} ({type(err).__name__}: {err}); delete the folder and "
            "run `suite data fetch cifar10`"
        ) from None
    images = resize_images(torch.from_numpy(batches.data).permute(0, 3, 1, 2).contiguous(), size)
    prefix = "train" if train else "test"
    ids = [f"{prefix}-{i:05d}" for i in range(len(images))]
    return Split(images=images, targets=torch.tensor(batches.targets, dtype=torch.int64), ids=ids), batches.classes


@dataset("cifar10")
def read_cifar10(root: Path, card: Card) -> Scan:
    if is_empty(root):
        return Scan(root, missing=True)
    base = locate(root, FOLDER)
    if base is None:
        return Scan(root, problems=[layout_error(root, card.title, card.layout.description)])
    files = [base / FOLDER / name for name in BATCH_FILES]
    problems = [
        f"{path} is missing; delete {base / FOLDER} and run `suite data fetch cifar10`"
        for path in files
        if not path.is_file()
    ]

    def decode(size: int) -> dict[str, Split]:
        train, classes = _split(base, True, size)
        if list(classes) != list(card.classes):
            raise DataError(
                f"{base / FOLDER / 'batches.meta'} names classes {classes}, not the card's {list(card.classes)}; "
                "these are not the CIFAR-10 batches"
            )
        return {"train": train, "test": _split(base, False, size)[0]}

    return Scan(base, files=files, problems=problems, decode=decode)
