"""DRIVE retinal vessels: ``{training,test}/images/NN_<split>.tif``, ``1st_manual/NN_manual1.gif``, ``mask/*.gif``.

The 20 training images are the fold pool; the 20 test images (with the first observer's annotation)
are the official test split. The field-of-view mask is the valid region scored by the metrics.
"""

from __future__ import annotations

from pathlib import Path

from suite.datasets._cards import Card
from suite.datasets._scan import Sample, Scan, files_of, image_files, is_empty, layout_error, locate
from suite.datasets.readers import dataset

SPLITS = {"train": "training", "test": "test"}


def _split_samples(folder: Path, split: str) -> tuple[list[Sample], list[str]]:
    samples, problems = [], []
    for image in image_files(folder / "images", (".tif", ".tiff")):
        number = image.stem.split("_")[0]
        manual = folder / "1st_manual" / f"{number}_manual1.gif"
        fov = folder / "mask" / f"{image.stem}_mask.gif"
        missing = [p for p in (manual, fov) if not p.is_file()]
        if missing:
            problems += [
                f"image {image} has no {p.parent.name} file (expected {p}); add it or remove the image" for p in missing
            ]
            continue
        samples.append(Sample(id=number, image=image, masks=(manual,), mask_rule="binary", valid=fov))
    numbers = {image.stem.split("_")[0] for image in image_files(folder / "images")}
    for manual in image_files(folder / "1st_manual"):
        number = manual.stem.split("_")[0]
        if number not in numbers:
            expected = folder / "images" / f"{number}_{split}.tif"
            problems.append(f"mask {manual} has no image (expected {expected}); add the image or remove the mask")
    return samples, problems


@dataset("drive")
def read_drive(root: Path, card: Card) -> Scan:
    if is_empty(root):
        return Scan(root, missing=True)
    base = locate(root, "training/images", "training/1st_manual", "training/mask")
    if base is None:
        return Scan(root, problems=[layout_error(root, card.title, card.layout.description)])
    splits, problems = {}, []
    for name, folder in SPLITS.items():
        if name == "test" and not (base / folder).is_dir():
            continue
        samples, found = _split_samples(base / folder, folder)
        splits[name] = samples
        problems += found
    if not splits["train"] and not problems:
        problems.append(f"{base / 'training' / 'images'} holds no .tif images; {card.layout.description}")
    return Scan(base, files=files_of(splits), splits=splits, problems=problems)
