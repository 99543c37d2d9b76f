"""BUSI breast ultrasound: ``<class>/<class> (N).png`` with one or more ``<class> (N)_mask*.png`` merged by OR.

Classes are benign, malignant and normal (normal images have empty masks). The class is kept as the
sample's stratum, so folds balance the three classes although the task is lesion segmentation.
"""

from __future__ import annotations

import re
from pathlib import Path

from suite.datasets._cards import Card
from suite.datasets._scan import Sample, Scan, files_of, image_files, is_empty, layout_error, locate
from suite.datasets.readers import dataset
from suite.registry import natural_key

CLASSES = ("benign", "malignant", "normal")
_MASK = re.compile(r"^(?P<stem>.+?)_mask(_\d+)?$")


def _class_samples(folder: Path, label: str) -> tuple[list[Sample], list[str]]:
    images: dict[str, Path] = {}
    masks: dict[str, list[Path]] = {}
    for path in image_files(folder, (".png",)):
        found = _MASK.match(path.stem)
        if found:
            masks.setdefault(found["stem"], []).append(path)
        else:
            images[path.stem] = path
    problems = [
        f"image {path} has no mask (expected {folder / f'{stem}_mask.png'}); add the mask or remove the image"
        for stem, path in images.items()
        if stem not in masks
    ]
    problems += [
        f"mask {paths[0]} has no image (expected {folder / f'{stem}.png'}); add the image or remove the mask"
        for stem, paths in masks.items()
        if stem not in images
    ]
    samples = [
        Sample(
            id=stem,
            image=images[stem],
            masks=tuple(sorted(masks[stem], key=lambda p: natural_key(p.name))),
            stratum=label,
        )
        for stem in sorted(images, key=natural_key)
        if stem in masks
    ]
    return samples, problems


@dataset("busi")
def read_busi(root: Path, card: Card) -> Scan:
    if is_empty(root):
        return Scan(root, missing=True)
    base = locate(root, *CLASSES)
    if base is None:
        return Scan(root, problems=[layout_error(root, card.title, card.layout.description)])
    samples, problems = [], []
    for label in CLASSES:
        found, issues = _class_samples(base / label, label)
        samples += found
        problems += issues
    splits = {"train": samples}
    return Scan(base, files=files_of(splits), splits=splits, problems=problems)
