"""Input normalization never sees a validation fold or the test split: statistics come from the fold's
training images, or are fixed constants, as the recipe says."""

from __future__ import annotations

import pytest
import torch

from suite.datasets.loaded import IMAGENET_MEAN, LoadedDataset, channel_stats, normalized
from suite.errors import SuiteError
from suite.recipe import NORMALIZATIONS, Recipe, load_recipe


def _dataset(channels: int = 3) -> LoadedDataset:
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 100, (10, channels, 8, 8), dtype=torch.uint8, generator=generator)
    images[5:] += 150  # the "validation" half is far brighter
    test = LoadedDataset("t", "cls", ["a"], channels, images[:2].clone(), torch.zeros(2, dtype=torch.int64), ["x", "y"])
    return LoadedDataset("t", "cls", ["a"], channels, images, torch.zeros(10, dtype=torch.int64),
                         [str(i) for i in range(10)], test=test)  # fmt: skip


def test_fold_statistics_come_from_the_training_images_only():
    data, train = _dataset(), torch.arange(5)
    fold = normalized(data, "fold", train)
    assert (fold.mean, fold.std) == channel_stats(data.images[:5])
    brighter = LoadedDataset(**{**data.__dict__, "images": data.images.clone()})
    brighter.images[5:] = 255  # change only the validation images
    assert normalized(brighter, "fold", train).mean == fold.mean
    assert fold.test.mean == fold.mean and fold.test.std == fold.std
    x, *_ = next(fold.batches(train, 5, shuffle=False, seed=0, epoch=0, augment=False))
    assert torch.allclose(x.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-4)


def test_fixed_constants_and_none():
    data = _dataset()
    assert normalized(data, "imagenet", torch.arange(5)).mean == IMAGENET_MEAN
    grey = normalized(_dataset(1), "imagenet", torch.arange(5))
    assert grey.mean == pytest.approx((sum(IMAGENET_MEAN) / 3,))
    plain = normalized(data, "none", torch.arange(5))
    assert plain.mean == plain.std == ()


def test_the_recipe_states_the_choice_and_refuses_others():
    assert Recipe().normalization == "fold" and set(NORMALIZATIONS) == {"fold", "imagenet", "none"}
    assert load_recipe("unet", "seg", "quick", {"normalization": "imagenet"}).normalization == "imagenet"
    with pytest.raises(SuiteError, match="normalization .* choose: fold, imagenet, none"):
        load_recipe("unet", "seg", "quick", {"normalization": "pool"})
