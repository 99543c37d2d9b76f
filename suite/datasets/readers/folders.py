"""Readers of image-folder + mask-folder layouts: Kvasir-SEG, CVC-ClinicDB, ISIC 2018 Task 1, ISBI 2012 membrane.

Images and masks are paired by file stem; an image without a mask or a mask without an image is a
problem naming the file. JPEG masks are binarized at > 127 (compression noise), lossless masks at > 0.
"""

from __future__ import annotations

from pathlib import Path

from suite.datasets._cards import Card
from suite.datasets._scan import Sample, Scan, files_of, image_files, is_empty, layout_error, locate, pair
from suite.datasets.readers import dataset


def _rule_for(mask: Path) -> str:
    return "lossy" if mask.suffix.lower() in (".jpg", ".jpeg") else "binary"


def scan_pairs(
    root: Path,
    card: Card,
    image_dir: str,
    mask_dir: str,
    mask_suffix: str = "",
    rule: str | None = None,
    image_suffixes: tuple[str, ...] | None = None,
) -> Scan:
    """Pair ``image_dir/<stem>.*`` with ``mask_dir/<stem><mask_suffix>.*`` under ``root`` (or its one sub-folder)."""
    if is_empty(root):
        return Scan(root, missing=True)
    base = locate(root, image_dir, mask_dir)
    if base is None:
        return Scan(root, problems=[layout_error(root, card.title, card.layout.description)])
    kwargs = {"suffixes": image_suffixes} if image_suffixes else {}
    images = {p.stem: p for p in image_files(base / image_dir, **kwargs)}
    masks = {}
    for path in image_files(base / mask_dir):
        if path.stem.endswith(mask_suffix):
            masks[path.stem[: len(path.stem) - len(mask_suffix)]] = (path,)
    mask_ext = next(iter(masks.values()))[0].suffix if masks else ".png"
    image_ext = next(iter(images.values())).suffix if images else ".jpg"
    pairs, problems = pair(
        images,
        masks,
        expected_mask=lambda key: base / mask_dir / f"{key}{mask_suffix}{mask_ext}",
        expected_image=lambda key: base / image_dir / f"{key}{image_ext}",
    )
    if not pairs and not problems:
        problems.append(f"{base / image_dir} holds no images; {card.layout.description}")
    samples = [
        Sample(
            id=key,
            image=image,
            masks=masks_,
            mask_rule=rule or _rule_for(masks_[0]),
            group=card.groups.group_of(key),
        )
        for key, image, masks_ in pairs
    ]
    problems += [
        f"sample {s.id} ({s.image}) is outside the group ranges of {card.path}; fix the card or the file name"
        for s in samples
        if card.groups.ranges and s.group is None
    ]
    splits = {"train": samples}
    return Scan(base, files=files_of(splits), splits=splits, problems=problems)


@dataset("kvasir-seg")
def read_kvasir_seg(root: Path, card: Card) -> Scan:
    return scan_pairs(root, card, "images", "masks")


@dataset("cvc-clinicdb")
def read_cvc_clinicdb(root: Path, card: Card) -> Scan:
    """The official ``Original/N.tif`` + ``Ground Truth/N.tif``, or ``images/N.*`` + ``masks/N.*`` copies."""
    if locate(root, "Original", "Ground Truth") is not None:
        return scan_pairs(root, card, "Original", "Ground Truth", image_suffixes=(".tif", ".tiff"))
    return scan_pairs(root, card, "images", "masks")


@dataset("isic2018")
def read_isic2018(root: Path, card: Card) -> Scan:
    return scan_pairs(
        root,
        card,
        "ISIC2018_Task1-2_Training_Input",
        "ISIC2018_Task1_Training_GroundTruth",
        mask_suffix="_segmentation",
        image_suffixes=(".jpg",),
    )


@dataset("isbi2012-membrane")
def read_isbi2012_membrane(root: Path, card: Card) -> Scan:
    """Membrane (the dark, 0-valued label pixels) is the foreground."""
    return scan_pairs(root, card, "train/image", "train/label", rule="inverted")
