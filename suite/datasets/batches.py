"""Batches straight from uint8 tensors, with joint image + mask augmentation done on the tensors' device.

No ``DataLoader`` and no per-sample Python: a batch is one copy of whole samples; augmentation is one gather per
tensor on uint8 (each sample's flips, turn and crop composed into one source index); images stay uint8
until the last step, one conversion to float32 with per-channel normalization (``to_normalized_float``:
on a one-thread CPU chunk by chunk, each chunk converted, scaled and shifted within the cache). Every random
draw comes from CPU generators seeded by (seed, epoch) and (augment seed, epoch), so the batches are
the same on CPU and GPU and from run to run.

Augmentation (``augment=True``):
- classification: random horizontal flip, random crop with zero padding of ``size // 8`` pixels;
- segmentation: random horizontal and vertical flips, a random multiple of 90 degrees (square images),
  random crop with zero padding; the mask and the valid region move with the image. Padded pixels are
  background in the mask and outside the valid region.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np
import torch
from torch import Tensor


def seeded_generator(*numbers: int) -> torch.Generator:
    """A CPU generator whose state is a fixed function of ``numbers`` (numpy's SeedSequence mixing)."""
    state = np.random.SeedSequence([abs(int(n)) for n in numbers]).generate_state(1, dtype=np.uint64)[0]
    return torch.Generator().manual_seed(int(state) & 0x7FFF_FFFF_FFFF_FFFF)


@dataclass(frozen=True)
class AugmentDraw:
    """Per-sample random choices of one batch (all (B,) int64 or bool tensors on the batch's device)."""

    hflip: Tensor
    vflip: Tensor
    turns: Tensor  # quarter turns counter-clockwise, as ``torch.rot90``
    top: Tensor  # crop offsets into the zero-padded image, 0 .. 2 * pad
    left: Tensor
    pad: int


def draw(count: int, height: int, width: int, segmentation: bool, generator: torch.Generator, device) -> AugmentDraw:
    """Draw flips, quarter turns (segmentation, square images) and crop offsets for ``count`` samples."""
    flips = torch.rand(count, 2, generator=generator) < 0.5
    turns = torch.randint(0, 4, (count,), generator=generator)
    pad = max(1, min(height, width) // 8)
    offsets = torch.randint(0, 2 * pad + 1, (count, 2), generator=generator)
    if not segmentation:
        flips[:, 1] = False
    if not segmentation or height != width:
        turns.zero_()
    return AugmentDraw(
        flips[:, 0].to(device),
        flips[:, 1].to(device),
        turns.to(device),
        offsets[:, 0].to(device),
        offsets[:, 1].to(device),
        pad,
    )


def source_index(d: AugmentDraw, height: int, width: int) -> Tensor:
    """Flat source pixel (B, H*W) in the zero-padded image of every output pixel.

    The transforms run hflip, vflip, rotation, padded crop. Padding is the same on all sides, so it
    commutes with the flips and (square) turns: pad first, then invert the turn and the flips on the
    crop's integer coordinates. Each source coordinate depends on the output row or the output column
    alone, so the flat index is one broadcast sum of a (B,H,1) and a (B,1,W) tensor.
    """
    device = d.turns.device
    padded_h, padded_w = height + 2 * d.pad, width + 2 * d.pad
    rows = torch.arange(height, device=device)[None, :, None] + d.top[:, None, None]  # (B,H,1)
    cols = torch.arange(width, device=device)[None, None, :] + d.left[:, None, None]  # (B,1,W)
    k = d.turns[:, None, None]
    # rotated[r][c] = unrotated[src]: k=0 (r, c); k=1 (c, S-1-r); k=2 (S-1-r, S-1-c); k=3 (S-1-c, r)
    row_of_r = torch.where(k == 2, padded_h - 1 - rows, rows)  # k in {0, 2}: source row from r
    col_of_c = torch.where(k == 2, padded_w - 1 - cols, cols)
    row_of_c = torch.where(k == 3, padded_w - 1 - cols, cols)  # k in {1, 3}: source row from c
    col_of_r = torch.where(k == 1, padded_h - 1 - rows, rows)
    vflip, hflip = d.vflip[:, None, None], d.hflip[:, None, None]
    row_of_r, row_of_c = (torch.where(vflip, padded_h - 1 - t, t) for t in (row_of_r, row_of_c))
    col_of_c, col_of_r = (torch.where(hflip, padded_w - 1 - t, t) for t in (col_of_c, col_of_r))
    swap = k % 2 == 1
    from_rows = torch.where(swap, col_of_r, row_of_r * padded_w)  # (B,H,1)
    from_cols = torch.where(swap, row_of_c * padded_w, col_of_c)  # (B,1,W)
    return (from_rows + from_cols).flatten(1)


def _gather(batch: Tensor, flat: Tensor, pad: int) -> Tensor:
    """``batch`` (B,H,W) or (B,C,H,W), zero-padded by ``pad``, read at the ``flat`` source pixels."""
    shape = batch.shape
    padded = torch.nn.functional.pad(batch, (pad, pad, pad, pad))
    if batch.dim() == 3:
        return padded.reshape(shape[0], -1).gather(1, flat).view(shape)
    return padded.reshape(shape[0], shape[1], -1).gather(2, flat[:, None].expand(-1, shape[1], -1)).view(shape)


def augment_batch(
    images: Tensor, targets: Tensor, valid: Tensor | None, generator: torch.Generator
) -> tuple[Tensor, Tensor, Tensor | None]:
    """Random flips, quarter turns (seg, square) and padded crops, drawn per sample from ``generator``."""
    segmentation = targets.dim() == 3
    height, width = images.shape[-2:]
    choices = draw(images.shape[0], height, width, segmentation, generator, images.device)
    flat = source_index(choices, height, width)
    images = _gather(images, flat, choices.pad)
    if segmentation:
        targets = _gather(targets, flat, choices.pad)
        valid = _gather(valid, flat, choices.pad) if valid is not None else None
    return images, targets, valid


def take(tensor: Tensor, indices: Tensor) -> Tensor:
    """``tensor[indices]`` along dim 0, copying each sample as 8-, 4- or 2-byte words where its size allows.

    Indexing uint8 images element by element is slower than indexing float32 ones; copying the same
    bytes as int64 words is much faster than either (16 images of 3x64x64 on the 2-core CPU of
    BENCHMARKS.md: 12 us, against 165 us for uint8 and 128 us for float32 indexing).
    """
    row_bytes = tensor[0].numel() * tensor.element_size() if len(tensor) else 0
    if tensor.dim() > 1 and tensor.is_contiguous():
        for word in (torch.int64, torch.int32, torch.int16):
            if row_bytes % word.itemsize == 0:
                rows = tensor.reshape(len(tensor), -1).view(torch.uint8).view(word)
                return rows.index_select(0, indices).view(torch.uint8).view(tensor.dtype).view(-1, *tensor.shape[1:])
    return tensor[indices]


def _normalizer(
    mean: Sequence[float] | None, std: Sequence[float] | None, channels: int, device
) -> tuple[Tensor, Tensor]:
    """scale, shift with ``x_float = x_uint8 * scale + shift`` == ``(x / 255 - mean) / std``."""
    mean_t = torch.tensor(list(mean) if mean else [0.0] * channels, dtype=torch.float32)
    std_t = torch.tensor(list(std) if std else [1.0] * channels, dtype=torch.float32)
    scale = (1.0 / (255.0 * std_t)).view(1, -1, 1, 1)
    shift = (-mean_t / std_t).view(1, -1, 1, 1)
    return scale.to(device), shift.to(device)


CHUNK_FLOATS = 1 << 18  # 1 MiB of float32: a chunk converted and normalized while it is in the CPU's cache


def to_normalized_float(x: Tensor, scale: Tensor, shift: Tensor) -> Tensor:
    """``x * scale + shift`` as float32 for a uint8 batch (B,C,H,W), the batch's one conversion.

    On the CPU with one torch thread the batch is converted a few samples at a time: each chunk
    (about 1 MiB of float32) is written, scaled and shifted while it is still in the cache, so the
    float32 batch crosses memory once rather than three times (convert, multiply, add). With several
    threads each of those ops is a parallel region ending in a barrier; the chunks would multiply the
    barriers by the batch size, and a barrier waits for a descheduled thread whenever another process
    holds a core (measured 15x slower than one pass on a loaded 2-core machine, BENCHMARKS.md). There,
    and on a GPU, the batch is converted in one pass.
    """
    if x.device.type != "cpu" or torch.get_num_threads() > 1:
        return x.float().mul_(scale).add_(shift)
    return chunked_normalized_float(x, scale, shift)


def chunked_normalized_float(x: Tensor, scale: Tensor, shift: Tensor) -> Tensor:
    """``to_normalized_float`` on the CPU, chunk by chunk, whatever the torch threads."""
    out = torch.empty(x.shape, dtype=torch.float32)
    step = max(1, CHUNK_FLOATS // max(1, x[0].numel())) if len(x) else 1
    for start in range(0, len(x), step):
        chunk = out[start : start + step]
        chunk.copy_(x[start : start + step])
        chunk.mul_(scale).add_(shift)
    return out


def iterate_batches(
    images: Tensor,
    targets: Tensor,
    indices: Tensor,
    batch_size: int,
    *,
    shuffle: bool,
    seed: int,
    epoch: int,
    augment: bool,
    valid: Tensor | None = None,
    drop_last: bool = False,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
    augment_seed: int | None = None,
) -> Iterator[tuple[Tensor, ...]]:
    """Yield ``(x, y)`` batches of the samples at ``indices``; ``(x, y, valid)`` when ``valid`` is given.

    x: float32 (B,C,H,W), ``(x/255 - mean) / std`` (plain [0,1] without mean/std); y: int64 (B,) for
    classification, float32 (B,1,H,W) in {0,1} for segmentation; valid: bool (B,1,H,W). Everything is on
    the device of ``images``. The order depends only on (seed, epoch), the augmentation only on
    (augment_seed or seed, epoch).
    """
    device = images.device
    indices = torch.as_tensor(indices, dtype=torch.int64).cpu()
    if shuffle:
        indices = indices[torch.randperm(len(indices), generator=seeded_generator(seed, epoch, 0))]
    indices = indices.to(device)
    augment_generator = seeded_generator(seed if augment_seed is None else augment_seed, epoch, 1)
    scale, shift = _normalizer(mean, std, images.shape[1], device)
    segmentation = targets.dim() == 3
    stop = len(indices) - len(indices) % batch_size if drop_last else len(indices)
    for start in range(0, stop, batch_size):
        chosen = indices[start : start + batch_size]
        x, y = take(images, chosen), take(targets, chosen)
        v = take(valid, chosen) if valid is not None else None
        if augment:
            x, y, v = augment_batch(x, y, v, augment_generator)
        x = to_normalized_float(x, scale, shift)
        y = y.unsqueeze(1).float() if segmentation else y.long()
        yield (x, y) if v is None else (x, y, v.unsqueeze(1).bool())
