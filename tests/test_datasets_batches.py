"""``iterate_batches``: forms and dtypes, exact normalization, determinism, and joint image/mask augmentation."""

from __future__ import annotations

import pytest
import torch

from suite.datasets import iterate_batches


def _seg(count: int = 10, size: int = 16) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Images whose every channel equals mask * 200 + 50 and a valid region equal to the mask."""
    generator = torch.Generator().manual_seed(0)
    masks = (torch.rand(count, size, size, generator=generator) > 0.6).to(torch.uint8)
    images = (masks * 200 + 50).to(torch.uint8)[:, None].repeat(1, 3, 1, 1)
    return images, masks, masks.bool()


def _cls(count: int = 12, size: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    return torch.randint(0, 256, (count, 3, size, size), dtype=torch.uint8, generator=generator), torch.arange(
        count
    ) % 3


def _collect(*args, **kwargs) -> list[tuple[torch.Tensor, ...]]:
    return list(iterate_batches(*args, **kwargs))


def test_classification_batches_are_exactly_normalized():
    images, labels = _cls()
    mean, std = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)
    batches = _collect(
        images, labels, torch.arange(12), 5, shuffle=False, seed=0, epoch=0, augment=False, mean=mean, std=std
    )
    assert [len(y) for _, y in batches] == [5, 5, 2]
    x = torch.cat([b[0] for b in batches])
    y = torch.cat([b[1] for b in batches])
    expected = (images.float() / 255 - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
    assert x.dtype == torch.float32 and torch.allclose(x, expected, atol=1e-5)
    assert y.dtype == torch.int64 and torch.equal(y, labels)


def test_segmentation_forms_with_valid_region():
    images, masks, valid = _seg()
    batches = _collect(
        images, masks, torch.arange(10), 4, shuffle=True, seed=3, epoch=1, augment=False, valid=valid, drop_last=True
    )
    assert len(batches) == 2
    x, y, v = batches[0]
    assert x.shape == (4, 3, 16, 16) and y.shape == (4, 1, 16, 16) and v.shape == (4, 1, 16, 16)
    assert y.dtype == torch.float32 and set(y.unique().tolist()) <= {0.0, 1.0} and v.dtype == torch.bool
    assert torch.allclose(x[:, :1], (y * 200 + 50) / 255, atol=1e-6), "images stay paired with their masks"


def test_order_depends_on_seed_and_epoch_only():
    images, labels = _cls(40)
    indices = torch.arange(3, 40)

    def order(seed: int, epoch: int) -> list[int]:
        return torch.cat(
            [
                y
                for _, y in _collect(
                    images, torch.arange(40), indices, 8, shuffle=True, seed=seed, epoch=epoch, augment=False
                )
            ]
        ).tolist()

    assert sorted(order(0, 0)) == indices.tolist(), "every index once per epoch"
    assert order(0, 0) == order(0, 0)
    assert order(0, 0) != order(0, 1) and order(0, 0) != order(1, 0)


def test_augmentation_moves_image_mask_and_valid_together():
    images, masks, valid = _seg(32, 16)
    batches = _collect(images, masks, torch.arange(32), 8, shuffle=False, seed=0, epoch=0, augment=True, valid=valid)
    x = torch.cat([b[0] for b in batches])
    y = torch.cat([b[1] for b in batches])
    v = torch.cat([b[2] for b in batches])
    inside = x[:, :1] > 0.05  # padded pixels are 0 in all three
    assert torch.allclose(x[:, :1][inside], ((y * 200 + 50) / 255)[inside], atol=1e-6)
    assert torch.equal(v, y.bool())
    assert torch.equal(x[:, 0], x[:, 2]), "channels move together"
    changed = (y[:, 0] != masks.float()).flatten(1).any(1)
    assert int(changed.sum()) > 16, "most samples are flipped, turned or shifted"


def test_augmentation_is_reproducible_and_has_its_own_seed():
    images, masks, _ = _seg(16)

    def run(**seeds) -> torch.Tensor:
        batches = _collect(images, masks, torch.arange(16), 16, shuffle=True, epoch=2, augment=True, **seeds)
        return batches[0][1]

    assert torch.equal(run(seed=5), run(seed=5))
    assert not torch.equal(run(seed=5, augment_seed=1), run(seed=5, augment_seed=2))


def test_classification_augmentation_keeps_labels_and_shapes():
    images, labels = _cls(12, 10)
    x, y = next(iterate_batches(images, labels, torch.arange(12), 12, shuffle=False, seed=0, epoch=0, augment=True))
    assert x.shape == (12, 3, 10, 10) and torch.equal(y, labels)


def test_non_square_images_are_not_turned():
    images = torch.randint(0, 256, (6, 1, 8, 12), dtype=torch.uint8)
    masks = torch.randint(0, 2, (6, 8, 12), dtype=torch.uint8)
    x, y = next(iterate_batches(images, masks, torch.arange(6), 6, shuffle=False, seed=0, epoch=0, augment=True))
    assert x.shape == (6, 1, 8, 12) and y.shape == (6, 1, 8, 12)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_gpu_batches_equal_cpu_batches():
    images, masks, valid = _seg(12)
    kwargs = dict(shuffle=True, seed=1, epoch=0, augment=True)
    cpu = _collect(images, masks, torch.arange(12), 4, valid=valid, **kwargs)
    gpu = _collect(images.cuda(), masks.cuda(), torch.arange(12), 4, valid=valid.cuda(), **kwargs)
    for a, b in zip(cpu, gpu):
        assert all(torch.allclose(p, q.cpu()) for p, q in zip(a, b))
        assert b[0].device.type == "cuda"


def _reference(sample: torch.Tensor, d, n: int) -> torch.Tensor:
    """The transforms of sample ``n`` applied one by one with plain torch ops."""
    if d.hflip[n]:
        sample = sample.flip(-1)
    if d.vflip[n]:
        sample = sample.flip(-2)
    sample = torch.rot90(sample, int(d.turns[n]), dims=(-2, -1))
    height, width = sample.shape[-2:]
    padded = torch.nn.functional.pad(sample, (d.pad, d.pad, d.pad, d.pad))
    top, left = int(d.top[n]), int(d.left[n])
    return padded[..., top : top + height, left : left + width]


@pytest.mark.parametrize("segmentation, shape", [(True, (12, 3, 8, 8)), (True, (12, 1, 6, 10)), (False, (12, 3, 8, 8))])
def test_composed_gather_equals_the_transforms_one_by_one(segmentation: bool, shape: tuple[int, ...]):
    from suite.datasets.batches import _gather, draw, seeded_generator, source_index

    images = torch.randint(0, 256, shape, dtype=torch.uint8, generator=torch.Generator().manual_seed(4))
    d = draw(shape[0], shape[2], shape[3], segmentation, seeded_generator(9, 0, 1), "cpu")
    assert bool(d.turns.any()) == (segmentation and shape[2] == shape[3])
    assert bool(d.vflip.any()) == segmentation
    out = _gather(images, source_index(d, shape[2], shape[3]), d.pad)
    for n in range(shape[0]):
        assert torch.equal(out[n], _reference(images[n], d, n)), f"sample {n}"


@pytest.mark.parametrize(
    "tensor",
    [
        torch.randint(0, 256, (9, 3, 8, 8), dtype=torch.uint8),
        torch.randint(0, 2, (9, 5, 5), dtype=torch.uint8),
        torch.rand(9, 3, 6) > 0.5,
        torch.arange(9),
        torch.rand(9, 2, 3),
    ],
    ids=["rgb-8-byte-words", "odd-mask-bytes", "bool-2-byte-words", "labels", "float"],
)
def test_take_copies_the_same_samples_as_indexing(tensor: torch.Tensor):
    from suite.datasets.batches import take

    chosen = torch.tensor([3, 1, 7, 7, 0])
    taken = take(tensor, chosen)
    assert taken.dtype == tensor.dtype and torch.equal(taken, tensor[chosen])


@pytest.mark.parametrize("shape", [(16, 3, 256, 256), (131, 3, 32, 32), (5, 1, 64, 64), (1, 3, 8, 8), (0, 3, 8, 8)])
def test_chunked_conversion_equals_one_pass_over_the_batch(shape: tuple[int, ...]):
    from suite.datasets.batches import _normalizer, chunked_normalized_float

    images = torch.randint(0, 256, shape, dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    scale, shift = _normalizer((0.3, 0.4, 0.5)[: shape[1]], (0.2, 0.25, 0.3)[: shape[1]], shape[1], "cpu")
    converted = chunked_normalized_float(images, scale, shift)
    assert converted.dtype == torch.float32 and converted.is_contiguous()
    assert torch.equal(converted, images.float().mul_(scale).add_(shift))  # bit for bit, chunk edges included
