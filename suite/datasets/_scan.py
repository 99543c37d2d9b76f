"""What a reader finds on disk before anything is decoded: samples, the files they come from, problems.

A reader returns a ``Scan``. File-based readers list ``Sample``s (an image, its mask files, an optional
valid-region mask) per split; array-based readers (pickle batches, npz, bundled or generated sets) give a
``decode`` function instead. ``files`` is everything the data depends on: the cache fingerprints it.
Problems (an image without a mask, ...) are collected, not raised, so ``suite data verify`` can list
them all; ``load_dataset`` raises the first.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import torch

from suite.errors import DataError
from suite.registry import natural_key

# How a mask file becomes {0,1}:
#   binary    lossless two-level file (0 and one other value); foreground = value > 0
#   lossy     JPEG-compressed mask; foreground = value > 127
#   instances instance labels (0 = background, 1..n = objects); foreground = value > 0
#   inverted  lossless two-level file whose dark value marks the structure; foreground = value <= 127
MASK_RULES = ("binary", "lossy", "instances", "inverted")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif")


@dataclass(frozen=True)
class Sample:
    """One image file and what it is labelled with."""

    id: str
    image: Path
    masks: tuple[Path, ...] = ()  # seg: merged by OR
    mask_rule: str = "binary"
    label: int | None = None  # cls
    valid: Path | None = None  # seg: region to score (e.g. DRIVE's field of view)
    group: str | None = None
    stratum: str | None = None  # a category to balance across folds (e.g. BUSI's class)

    def __post_init__(self) -> None:
        if self.mask_rule not in MASK_RULES:
            raise ValueError(f"mask_rule {self.mask_rule!r} is not one of {', '.join(MASK_RULES)}")


@dataclass
class Split:
    """Decoded tensors of one split, in sample order."""

    images: torch.Tensor  # uint8 (N, C, H, W)
    targets: torch.Tensor  # cls: int64 (N,); seg: uint8 (N, H, W) in {0, 1}
    ids: list[str]
    valid: torch.Tensor | None = None  # bool (N, H, W)
    groups: list[str] | None = None
    strata: list[str] | None = None


@dataclass
class Scan:
    root: Path
    files: list[Path] = field(default_factory=list)
    splits: dict[str, list[Sample]] = field(default_factory=dict)  # "train" = the fold pool; "test"
    problems: list[str] = field(default_factory=list)
    decode: Callable[[int], dict[str, Split]] | None = None  # array readers: image size -> splits
    missing: bool = False  # nothing is there yet (as opposed to a wrong layout)
    version: str = "1"  # bump when the reader's output changes, so old caches are not reused

    @property
    def count(self) -> dict[str, int]:
        return {name: len(samples) for name, samples in self.splits.items()}


def is_empty(path: Path) -> bool:
    """True when ``path`` does not exist or holds nothing but hidden files."""
    if not path.exists():
        return True
    return path.is_dir() and not any(not p.name.startswith(".") for p in path.iterdir())


def locate(root: Path, *relative: str) -> Path | None:
    """``root`` or the one sub-folder of it (as archives extract) that holds every ``relative`` path."""
    candidates = [root]
    if root.is_dir():
        candidates += sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: natural_key(p.name))
    for candidate in candidates:
        if all((candidate / rel).exists() for rel in relative):
            return candidate
    return None


def layout_error(root: Path, title: str, expected: str) -> str:
    found = sorted(p.name for p in root.iterdir())[:6] if root.is_dir() else []
    return (
        f"{root} does not hold {title} as published: expected {expected}, found "
        f"{', '.join(found) or 'nothing'}; pass --data-root pointing at the folder that holds it"
    )


def image_files(folder: Path, suffixes: Iterable[str] = IMAGE_SUFFIXES) -> list[Path]:
    """Image files of one folder in natural order (hidden files skipped). A folder that cannot be
    listed, or an image name that is a symbolic link to nothing (dangling, or a loop), is a DataError."""
    wanted = tuple(suffixes)
    try:
        with os.scandir(folder) as entries:
            names = [
                e.name
                for e in entries
                if not e.name.startswith(".") and os.path.splitext(e.name)[1].lower() in wanted and _is_file(e)
            ]
    except OSError as err:
        raise DataError(f"cannot list {folder} ({err.strerror or err}); it must be a folder of image files") from None
    return [folder / name for name in sorted(names, key=natural_key)]


def _is_file(entry: os.DirEntry) -> bool:
    try:
        followed = entry.is_file()
    except OSError as err:  # a symbolic link loop
        followed, reason = False, err.strerror or str(err)
    else:
        reason = "it points at nothing"
    if not followed and entry.is_symlink() and not os.path.isdir(entry.path):
        raise DataError(
            f"{entry.path} is a symbolic link that cannot be followed ({reason}); point it at the file or remove it"
        )
    return followed


def pair(
    images: dict[str, Path],
    masks: dict[str, tuple[Path, ...]],
    expected_mask: Callable[[str], Path],
    expected_image: Callable[[str], Path],
) -> tuple[list[tuple[str, Path, tuple[Path, ...]]], list[str]]:
    """Match images and masks by key; every unmatched file becomes a problem that names it."""
    problems = [
        f"image {images[key]} has no mask (expected {expected_mask(key)}); add the mask or remove the image"
        for key in images
        if key not in masks
    ]
    problems += [
        f"mask {masks[key][0]} has no image (expected {expected_image(key)}); add the image or remove the mask"
        for key in masks
        if key not in images
    ]
    keys = sorted(set(images) & set(masks), key=natural_key)
    return [(key, images[key], masks[key]) for key in keys], problems


def files_of(splits: dict[str, list[Sample]]) -> list[Path]:
    """Every file the samples are decoded from."""
    files = []
    for samples in splits.values():
        for sample in samples:
            files.append(sample.image)
            files.extend(sample.masks)
            if sample.valid is not None:
                files.append(sample.valid)
    return files
