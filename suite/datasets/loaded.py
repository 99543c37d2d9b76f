"""``LoadedDataset``: a whole dataset decoded into uint8 tensors, the form the trainer works on.

Images stay uint8 in memory (on the GPU when there is one) and become float only batch by batch in
``iterate_batches``, normalized with ``mean`` / ``std`` (per channel, on the [0,1] scale; empty: plain
[0, 1]). A loaded set carries none: ``normalized`` sets them for one fold from that fold's training
images only, so no statistic of a validation fold or of the test split reaches training.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterator

import torch

from suite.datasets.batches import iterate_batches


@dataclass
class LoadedDataset:
    name: str
    task: str  # "cls" | "seg"
    classes: list[str]
    in_channels: int
    images: torch.Tensor  # uint8 (N, C, H, W) at the requested image size
    targets: torch.Tensor  # cls: int64 (N,); seg: uint8 (N, H, W) in {0, 1}
    ids: list[str]  # stable sample ids, the keys of fold manifests
    groups: list[str] | None = None  # samples of one group stay in one fold
    valid: torch.Tensor | None = None  # seg: bool (N, H, W) region to score (DRIVE's field of view)
    test: "LoadedDataset | None" = None  # the official test split, where one exists
    mean: tuple[float, ...] = ()  # per channel, [0,1] scale (``normalized``); empty: no normalization
    std: tuple[float, ...] = ()
    strata: list[str] | None = None  # seg: a category to balance across folds (e.g. BUSI's class)
    order: str | None = None  # "slice": ids in natural order are consecutive sections (contiguous folds)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def image_size(self) -> int:
        return int(self.images.shape[-1])

    @property
    def device(self) -> torch.device:
        return self.images.device

    def to(self, device: str | torch.device) -> "LoadedDataset":
        """The same data on ``device`` (uint8 stays uint8: a 609-image 256 px set is 160 MB)."""
        return replace(
            self,
            images=self.images.to(device),
            targets=self.targets.to(device),
            valid=None if self.valid is None else self.valid.to(device),
            test=None if self.test is None else self.test.to(device),
        )

    def batches(
        self,
        indices: torch.Tensor,
        batch_size: int,
        *,
        shuffle: bool,
        seed: int,
        epoch: int,
        augment: bool,
        augment_seed: int | None = None,
        drop_last: bool = False,
    ) -> Iterator[tuple[torch.Tensor, ...]]:
        """``iterate_batches`` over this dataset with its own normalization and valid region."""
        return iterate_batches(
            self.images,
            self.targets,
            indices,
            batch_size,
            shuffle=shuffle,
            seed=seed,
            epoch=epoch,
            augment=augment,
            augment_seed=augment_seed,
            valid=self.valid,
            drop_last=drop_last,
            mean=self.mean,
            std=self.std,
        )

    def class_counts(self) -> dict[str, int]:
        """cls: samples per class name."""
        counts = torch.bincount(self.targets.cpu(), minlength=len(self.classes)).tolist()
        return dict(zip(self.classes, counts))


IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def normalized(data: LoadedDataset, how: str, train_indices: torch.Tensor) -> LoadedDataset:
    """``data`` (and its test split) normalized as a recipe says: "fold" = the statistics of the images
    at ``train_indices`` only; "imagenet" = ImageNet's constants (grey images use their mean); "none"."""
    if how == "none":
        mean, std = (), ()
    elif how == "imagenet":
        grey = data.in_channels == 1
        mean = (sum(IMAGENET_MEAN) / 3,) if grey else IMAGENET_MEAN
        std = (sum(IMAGENET_STD) / 3,) if grey else IMAGENET_STD
    elif how == "fold":
        mean, std = channel_stats(data.images[train_indices.to(data.images.device)])
    else:
        raise ValueError(f"unknown normalization {how!r}")
    test = None if data.test is None else replace(data.test, mean=mean, std=std)
    return replace(data, mean=mean, std=std, test=test)


def channel_stats(images: torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and std of uint8 (N,C,H,W) images on the [0,1] scale (float64 sums, in chunks)."""
    channels = images.shape[1]
    per_image = max(1, images[0].numel()) if len(images) else 1
    total = torch.zeros(channels, dtype=torch.float64)
    squares = torch.zeros(channels, dtype=torch.float64)
    for part in images.split(max(1, 4_000_000 // per_image)):
        values = part.float().div_(255.0)
        total += values.sum(dim=(0, 2, 3), dtype=torch.float64).cpu()
        squares += values.square_().sum(dim=(0, 2, 3), dtype=torch.float64).cpu()
    count = max(1, images.shape[0] * images.shape[2] * images.shape[3])
    mean = total / count
    std = (squares / count - mean.square()).clamp_min(1e-12).sqrt()
    return tuple(round(v, 6) for v in mean.tolist()), tuple(round(v, 6) for v in std.tolist())
