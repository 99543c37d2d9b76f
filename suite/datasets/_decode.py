"""Decode image and mask files with Pillow into square uint8 tensors, in a thread pool.

Images are resized with Pillow's bilinear filter (which widens its support when it shrinks, i.e. it
antialiases); JPEGs are first decoded with DCT scaling to no less than the target size, which is what
makes a cold load of a JPEG set fast. Masks are binarized by their rule at full resolution, then resized
with nearest neighbour, so they stay exactly {0,1}. A corrupt or truncated file, or a mask whose size
differs from its image, is a ``DataError`` that names the file.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from suite.datasets._scan import Sample, Split
from suite.errors import DataError

_DECODE_ERRORS = (OSError, SyntaxError, ValueError, UnidentifiedImageError, Image.DecompressionBombError)


def open_image(path: Path) -> Image.Image:
    """Open a file and read its header (not its pixels); a file that is not an image is a DataError."""
    try:
        return Image.open(path)
    except _DECODE_ERRORS as err:
        raise decode_error(path, err) from None


def load_pixels(image: Image.Image, path: Path) -> Image.Image:
    """Decode the pixels; a truncated or damaged file is a DataError naming it."""
    try:
        image.load()
    except _DECODE_ERRORS as err:
        raise decode_error(path, err) from None
    return image


def decode_error(path: Path, err: Exception) -> DataError:
    reason = str(err).splitlines()[0] if str(err) else type(err).__name__
    return DataError(
        f"cannot decode {path} ({reason}): the file is corrupt or truncated; download it again or remove it "
        "(with its image or mask)"
    )


def size_mismatch(mask: Path, mask_size: tuple[int, int], image: Path, image_size: tuple[int, int]) -> DataError:
    return DataError(
        f"mask {mask} is {mask_size[0]}x{mask_size[1]} px but its image {image} is "
        f"{image_size[0]}x{image_size[1]} px; replace the mask with one at the image's size"
    )


def mask_values(image: Image.Image, rule: str) -> np.ndarray:
    """The values a rule reads: grey levels, or raw labels for instance masks (any channel > 0)."""
    if rule == "instances":
        values = np.asarray(image)
        return values.max(axis=-1) if values.ndim == 3 else values
    return np.asarray(image.convert("L"))


def binarize(values: np.ndarray, rule: str) -> np.ndarray:
    """bool foreground of a mask's values under ``rule`` (see ``_scan.MASK_RULES``)."""
    if rule == "lossy":
        return values > 127
    if rule == "inverted":
        return values <= 127
    return values > 0


def _read_mask(path: Path, rule: str, expected: tuple[int, int], image_path: Path) -> np.ndarray:
    mask = open_image(path)
    if mask.size != expected:
        raise size_mismatch(path, mask.size, image_path, expected)
    return binarize(mask_values(load_pixels(mask, path), rule), rule)


def _resize_mask(mask: np.ndarray, size: int) -> np.ndarray:
    if mask.shape == (size, size):
        return mask.astype(np.uint8)
    return np.asarray(Image.fromarray(mask.astype(np.uint8)).resize((size, size), Image.NEAREST))


def decode_sample(
    sample: Sample, size: int, in_channels: int
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """(image uint8 (C,S,S), mask uint8 (S,S) in {0,1} or None, valid uint8 (S,S) or None)."""
    mode = "RGB" if in_channels == 3 else "L"
    image = open_image(sample.image)
    native = image.size
    masks = [_read_mask(path, sample.mask_rule, native, sample.image) for path in sample.masks]
    valid = _read_mask(sample.valid, "binary", native, sample.image) if sample.valid else None
    if image.format == "JPEG":
        image.draft(mode, (size, size))
    image = load_pixels(image, sample.image).convert(mode)
    if image.size != (size, size):
        image = image.resize((size, size), Image.BILINEAR)
    pixels = np.asarray(image)
    pixels = pixels[None] if pixels.ndim == 2 else pixels.transpose(2, 0, 1)
    mask = _resize_mask(np.logical_or.reduce(masks), size) if masks else None
    return pixels, mask, _resize_mask(valid, size) if valid is not None else None


def decode_samples(samples: list[Sample], size: int, in_channels: int) -> Split:
    """Decode a split's files (at least one sample) in threads; Pillow releases the GIL while decoding."""
    workers = min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(workers) as pool:
        decoded = list(pool.map(lambda s: decode_sample(s, size, in_channels), samples))
    images = torch.from_numpy(np.stack([d[0] for d in decoded])).contiguous()  # NCHW, not the stack's NHWC
    if samples[0].label is None:
        targets = torch.from_numpy(np.stack([d[1] for d in decoded]))
    else:
        targets = torch.tensor([s.label for s in samples], dtype=torch.int64)
    valid = None
    if any(d[2] is not None for d in decoded):
        valid = torch.from_numpy(
            np.stack([d[2] if d[2] is not None else np.ones((size, size), np.uint8) for d in decoded])
        ).bool()
    groups = [s.group for s in samples]
    strata = [s.stratum for s in samples]
    return Split(
        images=images,
        targets=targets,
        ids=[s.id for s in samples],
        valid=valid,
        groups=groups if all(g is not None for g in groups) else None,
        strata=strata if all(s is not None for s in strata) else None,
    )


def resize_images(images: torch.Tensor, size: int) -> torch.Tensor:
    """Resize a uint8 (N,C,H,W) batch to (N,C,size,size): bilinear with antialiasing, in chunks."""
    if images.shape[-2:] == (size, size):
        return images
    chunks = []
    for chunk in images.split(1024):
        resized = torch.nn.functional.interpolate(
            chunk.float(), size=(size, size), mode="bilinear", antialias=True, align_corners=False
        )
        chunks.append(resized.round_().clamp_(0, 255).to(torch.uint8))
    return torch.cat(chunks)


def resize_masks(masks: torch.Tensor, size: int) -> torch.Tensor:
    """Nearest-neighbour resize of a {0,1} uint8 (N,H,W) stack."""
    if masks.shape[-2:] == (size, size):
        return masks
    return torch.nn.functional.interpolate(masks[:, None].float(), size=(size, size), mode="nearest")[:, 0].to(
        torch.uint8
    )
