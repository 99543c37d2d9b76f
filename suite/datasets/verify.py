"""``verify_dataset``: check a dataset on disk file by file and list everything that is wrong.

Checks: the layout and the image/mask pairing (from the reader's scan), that every file decodes, that
each mask has its image's size, that mask values fit the mask's rule (two levels for lossless masks,
little mid-grey for JPEG masks), the sample counts against the card, and for sets that come as arrays,
label ranges and mask values of the decoded tensors. Counts per class (classification), per stratum,
and the foreground share (segmentation) are reported.
"""

from __future__ import annotations

import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from suite.datasets._cards import Card
from suite.datasets._decode import binarize, load_pixels, mask_values, open_image, size_mismatch
from suite.datasets._scan import Sample, Scan
from suite.datasets.cache import load_dataset, scan_dataset
from suite.errors import DataError

LOSSY_MIDDLE = (32, 223)  # JPEG mask values this far from both 0 and 255 are suspicious ...
LOSSY_MIDDLE_MAX_SHARE = 0.05  # ... beyond this share of a mask's pixels


@dataclass
class SampleCheck:
    sizes: tuple[int, int] | None = None
    foreground: float = 0.0
    problems: list[str] = field(default_factory=list)


@dataclass
class VerifyReport:
    dataset: str
    root: Path
    counts: dict[str, int] = field(default_factory=dict)  # samples per split
    expected: dict[str, int] = field(default_factory=dict)  # per split, from the card
    image_sizes: Counter = field(default_factory=Counter)  # (width, height) -> images
    per_class: dict[str, dict[str, int]] = field(default_factory=dict)  # split -> class or stratum -> count
    foreground: dict[str, float] = field(default_factory=dict)  # split -> mean foreground share
    empty_masks: dict[str, int] = field(default_factory=dict)  # split -> masks with no foreground
    groups: dict[str, int] = field(default_factory=dict)  # split -> groups of related samples
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _mask_problem(values: np.ndarray, rule: str, path: Path) -> str | None:
    levels = np.unique(values)
    if rule in ("binary", "inverted") and (len(levels) > 2 or (len(levels) == 2 and levels[0] != 0)):
        shown = ", ".join(str(v) for v in levels[:6]) + (", ..." if len(levels) > 6 else "")
        return f"mask {path} has values {shown}; a lossless mask must have two levels (0 and one other)"
    if rule == "lossy":
        middle = np.mean((values >= LOSSY_MIDDLE[0]) & (values <= LOSSY_MIDDLE[1]))
        if middle > LOSSY_MIDDLE_MAX_SHARE:
            low, high = LOSSY_MIDDLE
            return f"mask {path} has {middle:.0%} of its pixels between {low} and {high}; it is not a binary mask"
    return None


def _checked_values(path: Path, rule: str, sample: Sample, size: tuple[int, int], check: SampleCheck) -> np.ndarray:
    """A mask file's values; a size mismatch raises, values that do not fit ``rule`` are noted."""
    mask = open_image(path)
    if mask.size != size:
        raise size_mismatch(path, mask.size, sample.image, size)
    values = mask_values(load_pixels(mask, path), rule)
    problem = _mask_problem(values, rule, path)
    if problem:
        check.problems.append(problem)
    return values


def check_sample(sample: Sample) -> SampleCheck:
    """Decode one sample's files at full size and record what is wrong with them."""
    check = SampleCheck()
    try:
        image = load_pixels(open_image(sample.image), sample.image)
        check.sizes = image.size
        masks = [
            binarize(_checked_values(path, sample.mask_rule, sample, image.size, check), sample.mask_rule)
            for path in sample.masks
        ]
        if sample.valid is not None:
            _checked_values(sample.valid, "binary", sample, image.size, check)
        check.foreground = float(np.logical_or.reduce(masks).mean()) if masks else 0.0
    except DataError as err:
        check.problems.append(str(err))
    return check


def _verify_files(report: VerifyReport, scan: Scan) -> None:
    with ThreadPoolExecutor(min(8, os.cpu_count() or 1)) as pool:
        for split, samples in scan.splits.items():
            checks = list(pool.map(check_sample, samples))
            for check in checks:
                report.problems += check.problems
                if check.sizes:
                    report.image_sizes[check.sizes] += 1
            if samples and samples[0].label is None:
                report.foreground[split] = float(np.mean([c.foreground for c in checks]))
                report.empty_masks[split] = sum(c.foreground == 0 for c in checks)
            if samples and all(s.group is not None for s in samples):
                report.groups[split] = len({s.group for s in samples})
            strata = Counter(s.stratum for s in samples if s.stratum is not None)
            if strata:
                report.per_class[split] = dict(sorted(strata.items()))


def _verify_arrays(report: VerifyReport, card: Card, name: str, root: str | Path | None) -> None:
    data = load_dataset(name, root)
    for split, part in (("train", data), ("test", data.test)):
        if part is None:
            continue
        report.counts[split] = len(part)
        report.image_sizes[(part.image_size, part.image_size)] += len(part)
        if card.task == "cls":
            if part.targets.min() < 0 or part.targets.max() >= len(card.classes):
                span = f"{int(part.targets.min())}..{int(part.targets.max())}"
                report.problems.append(f"{split} labels span {span}; the card has {len(card.classes)} classes")
            report.per_class[split] = part.class_counts()
        else:
            if not set(part.targets.unique().tolist()) <= {0, 1}:
                report.problems.append(f"{split} masks are not binary after decoding")
            share = part.targets.float().mean(dim=(1, 2))
            report.foreground[split] = float(share.mean())
            report.empty_masks[split] = int((share == 0).sum())


def verify_dataset(name: str, root: str | Path | None = None) -> VerifyReport:
    """Check dataset ``name`` at ``root`` (default: where ``load_dataset`` reads it); files' problems are listed."""
    card, scan = scan_dataset(name.lower(), root, download=False)
    report = VerifyReport(dataset=card.name, root=scan.root, expected=dict(card.samples), problems=list(scan.problems))
    if scan.decode is None:
        report.counts = scan.count
        _verify_files(report, scan)
    elif not report.problems:
        try:
            _verify_arrays(report, card, name, root)
        except DataError as err:
            report.problems.append(str(err))
    for split, expected in card.samples.items():
        found = report.counts.get(split)
        if found is not None and found != expected:
            report.notes.append(f"{split}: {found} samples, the publisher's release has {expected}")
    if not any(report.counts.values()) and not report.problems:
        report.problems.append(f"no samples found in {scan.root}; {card.layout.description}")
    return report
