"""Readers of sets that come as arrays: scikit-learn's bundled digits and MedSegBench ``.npz`` files.

- ``digits``: ``sklearn.datasets.load_digits`` (1,797 real 8x8 scans, 16 grey levels), scaled to 0-255
  and upsampled (bilinear) to the run's image size; 1 channel, classes 0-9. Offline, always present.
- ``medsegbench``: one ``<name>_<size>.npz`` with ``{split}_images`` and ``{split}_label`` for split in
  train / val / test; ``--data-root`` is the npz file (or a folder holding exactly one). train + val form
  the fold pool, test the official test split. Label values > 0 are foreground; grey images are
  repeated to 3 channels so one card fits every MedSegBench file.
"""

from __future__ import annotations

from importlib.metadata import version as package_version
from pathlib import Path

import numpy as np
import torch

from suite.datasets._cards import Card
from suite.datasets._decode import resize_images, resize_masks
from suite.datasets._scan import Scan, Split, is_empty
from suite.datasets.readers import dataset
from suite.errors import DataError

MEDSEGBENCH_SPLITS = ("train", "val", "test")


@dataset("digits")
def read_digits(root: Path, card: Card) -> Scan:
    def decode(size: int) -> dict[str, Split]:
        from sklearn.datasets import load_digits

        bunch = load_digits()
        grey = torch.from_numpy(np.rint(bunch.images * (255.0 / 16.0)).astype(np.uint8))[:, None]
        ids = [f"{i:04d}" for i in range(len(grey))]
        targets = torch.from_numpy(bunch.target.astype(np.int64))
        return {"train": Split(images=resize_images(grey, size), targets=targets, ids=ids)}

    return Scan(root, decode=decode, version=f"1-sklearn{package_version('scikit-learn')}")


def _npz_path(root: Path) -> Path | None:
    if root.is_file():
        return root
    found = sorted(root.glob("*.npz")) if root.is_dir() else []
    return found[0] if len(found) == 1 else None


def _images(array: np.ndarray, path: Path, key: str) -> torch.Tensor:
    if array.ndim == 4 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim == 3:
        array = np.repeat(array[:, None], 3, axis=1)
    elif array.ndim == 4 and array.shape[-1] == 3:
        array = array.transpose(0, 3, 1, 2)
    else:
        raise DataError(f"{path}: '{key}' has shape {array.shape}; expected (N,H,W) or (N,H,W,3) images")
    if array.dtype != np.uint8:
        raise DataError(f"{path}: '{key}' is {array.dtype}; expected uint8 images as MedSegBench ships them")
    return torch.from_numpy(np.ascontiguousarray(array))


def _decode_npz(path: Path, size: int) -> dict[str, Split]:
    try:
        arrays = np.load(path)
        keys = set(arrays.files)
    except (OSError, ValueError, EOFError) as err:
        raise DataError(f"cannot read {path} ({err}); download the npz again") from None
    needed = [f"{split}_{kind}" for split in MEDSEGBENCH_SPLITS for kind in ("images", "label")]
    absent = [key for key in needed if key not in keys]
    if absent:
        raise DataError(
            f"{path} lacks {', '.join(absent)} (it has {', '.join(sorted(keys)) or 'nothing'}); "
            "pass a MedSegBench <name>_<size>.npz"
        )
    parts: dict[str, Split] = {}
    for split in MEDSEGBENCH_SPLITS:
        images = _images(arrays[f"{split}_images"], path, f"{split}_images")
        labels = arrays[f"{split}_label"]
        labels = labels[..., 0] if labels.ndim == 4 and labels.shape[-1] == 1 else labels
        if labels.shape != (images.shape[0], *images.shape[2:]):
            raise DataError(
                f"{path}: '{split}_label' has shape {labels.shape} but '{split}_images' holds "
                f"{images.shape[0]} images of {tuple(images.shape[2:])}; the file is damaged, download it again"
            )
        masks = torch.from_numpy((labels > 0).astype(np.uint8))
        ids = [f"{split}-{i:05d}" for i in range(len(images))]
        parts[split] = Split(images=resize_images(images, size), targets=resize_masks(masks, size), ids=ids)
    pool = Split(
        images=torch.cat([parts["train"].images, parts["val"].images]),
        targets=torch.cat([parts["train"].targets, parts["val"].targets]),
        ids=parts["train"].ids + parts["val"].ids,
    )
    return {"train": pool, "test": parts["test"]}


@dataset("medsegbench")
def read_medsegbench(root: Path, card: Card) -> Scan:
    if is_empty(root):
        return Scan(root, missing=True)
    path = _npz_path(root)
    if path is None:
        problem = (
            f"{root} is not a MedSegBench npz file nor a folder holding exactly one; "
            "pass --data-root path/to/<name>_<size>.npz"
        )
        return Scan(root, problems=[problem])
    return Scan(path, files=[path], decode=lambda size: _decode_npz(path, size))
