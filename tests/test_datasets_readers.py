"""Readers decode the published layouts: real data in ../shared/data, and tiny copies of the other layouts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from _data_fixtures import (
    BUSI_COUNTS,
    CIFAR_CLASSES,
    MEDSEGBENCH_SIZES,
    write_busi,
    write_cifar10,
    write_cvc_official,
    write_glas,
    write_isic,
    write_kvasir,
    write_medsegbench,
)
from PIL import Image

from suite.datasets import LoadedDataset, load_card, load_dataset
from suite.datasets.loaded import normalized


def _check_form(data: LoadedDataset, size: int) -> None:
    """The LoadedDataset contract: dtypes, shapes, binary masks, unique ids."""
    assert data.images.dtype == torch.uint8 and data.images.shape[1:] == (data.in_channels, size, size)
    assert data.images.is_contiguous() and data.targets.is_contiguous(), "NCHW in memory: batches copy whole rows"
    assert len(data.ids) == len(set(data.ids)) == len(data.images) == len(data.targets)
    if data.task == "seg":
        assert data.targets.dtype == torch.uint8 and data.targets.shape[1:] == (size, size)
        assert set(data.targets.unique().tolist()) <= {0, 1}
    else:
        assert data.targets.dtype == torch.int64 and data.targets.dim() == 1
        assert 0 <= int(data.targets.min()) and int(data.targets.max()) < len(data.classes)
    assert data.mean == data.std == (), "a loaded set carries no statistics: each fold measures its own"
    if data.valid is not None:
        assert data.valid.dtype == torch.bool and data.valid.shape == data.targets.shape


def test_membrane(shared_data: Path):
    data = load_dataset("isbi2012-membrane", shared_data / "isbi2012-membrane", image_size=32)
    _check_form(data, 32)
    assert len(data) == 30 and data.in_channels == 1 and data.test is None and data.groups is None
    assert data.ids[:3] == ["0", "1", "2"]
    label = np.asarray(Image.open(shared_data / "isbi2012-membrane" / "train" / "label" / "0.png"))
    assert abs(float(data.targets[0].float().mean()) - float((label == 0).mean())) < 0.05, "membrane (0) is foreground"


def test_drive_has_fov_and_official_test(shared_data: Path):
    data = load_dataset("drive", shared_data / "DRIVE", image_size=32)
    _check_form(data, 32)
    assert len(data) == 20 and data.test is not None and len(data.test) == 20
    _check_form(data.test, 32)
    assert set(data.ids) == {str(n) for n in range(21, 41)}
    assert data.valid is not None and data.test.valid is not None
    assert 0.5 < float(data.valid.float().mean()) < 0.9, "the field of view covers most, not all, of the image"
    assert not bool((data.targets.bool() & ~data.valid).any()), "vessels lie inside the field of view"
    fold = normalized(data, "fold", torch.arange(20))
    x, y, valid = next(fold.batches(torch.arange(20), 20, shuffle=False, seed=0, epoch=0, augment=False))
    assert valid.shape == y.shape == (20, 1, 32, 32) and torch.equal(valid[:, 0], data.valid)
    assert torch.allclose(x.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-3), "normalized by these images' own mean"
    assert torch.allclose(x.std(dim=(0, 2, 3)), torch.ones(3), atol=1e-2)
    assert fold.test.mean == fold.mean, "the test split uses the fold's training statistics"


def test_cvc_clinicdb_copy_with_sequence_groups(shared_data: Path):
    data = load_dataset("cvc-clinicdb", shared_data / "CVC-ClinicDB-256", image_size=32)
    _check_form(data, 32)
    assert len(data) == 609 and data.in_channels == 3
    card = load_card("cvc-clinicdb")
    assert data.groups == [card.groups.group_of(i) for i in data.ids]
    assert len(set(data.groups)) == 29


@pytest.mark.slow
def test_full_size_decodes(shared_data: Path):
    for name, folder in (
        ("drive", "DRIVE"),
        ("isbi2012-membrane", "isbi2012-membrane"),
        ("cvc-clinicdb", "CVC-ClinicDB-256"),
    ):
        size = load_card(name).image_size
        _check_form(load_dataset(name, shared_data / folder), size)


def test_cvc_official_tif_layout(tmp_path: Path):
    root = write_cvc_official(tmp_path / "cvc", range(1, 31))
    data = load_dataset("cvc-clinicdb", root, image_size=16)
    _check_form(data, 16)
    assert data.ids == [str(n) for n in range(1, 31)]
    assert data.groups == ["seq01"] * 25 + ["seq02"] * 5


def test_kvasir_inside_the_zip_folder(tmp_path: Path):
    root = write_kvasir(tmp_path / "kvasir")
    data = load_dataset("kvasir-seg", root, image_size=16)
    _check_form(data, 16)
    assert len(data) == 6 and data.groups is None
    assert all(int(m.sum()) > 0 for m in data.targets), "each JPEG mask holds its disc after thresholding"


def test_isic_ignores_text_files(tmp_path: Path):
    data = load_dataset("isic2018", write_isic(tmp_path / "isic"), image_size=16)
    _check_form(data, 16)
    assert data.ids == [f"ISIC_{i:07d}" for i in range(5)]


def test_busi_merges_masks_and_keeps_class_strata(tmp_path: Path):
    data = load_dataset("busi", write_busi(tmp_path / "busi"), image_size=24)
    _check_form(data, 24)
    assert data.in_channels == 1
    assert len(data) == sum(BUSI_COUNTS.values())
    assert sorted(set(data.strata)) == ["benign", "malignant", "normal"]
    first = data.ids.index("benign (1)")
    assert data.targets[first, :3, :3].all(), "the second mask file is merged by OR"
    normal = [i for i, s in enumerate(data.strata) if s == "normal"]
    assert int(data.targets[normal].sum()) == 0


def test_glas_instances_splits_and_patients(tmp_path: Path):
    data = load_dataset("glas", write_glas(tmp_path / "glas"), image_size=24)
    _check_form(data, 24)
    assert len(data) == 10 and data.test is not None and len(data.test) == 5
    assert all(i.startswith("train_") for i in data.ids)
    assert all(i.startswith(("testA_", "testB_")) for i in data.test.ids)
    assert data.targets[:, :4, :4].all(), "instance label 2 counts as foreground"
    assert data.groups is not None and len(set(data.groups)) == 5


def test_cifar10_pickle_batches(tmp_path: Path):
    root = write_cifar10(tmp_path / "cifar")
    data = load_dataset("cifar10", root)
    _check_form(data, 32)
    assert len(data) == 100 and data.test is not None and len(data.test) == 10
    assert data.classes == CIFAR_CLASSES
    assert data.targets[:3].tolist() == [1, 2, 3], "labels of data_batch_1 in order"
    resized = load_dataset("cifar10", root, image_size=16)
    _check_form(resized, 16)


def test_medsegbench_npz(tmp_path: Path):
    path = write_medsegbench(tmp_path / "msb")
    data = load_dataset("medsegbench", path, image_size=16)
    _check_form(data, 16)
    assert len(data) == MEDSEGBENCH_SIZES["train"] + MEDSEGBENCH_SIZES["val"]
    assert data.test is not None and len(data.test) == MEDSEGBENCH_SIZES["test"]
    assert load_dataset("medsegbench", path.parent, image_size=16) is data, "a folder with one npz reads the same"


def test_digits_is_real_and_offline():
    data = load_dataset("digits", image_size=16)
    _check_form(data, 16)
    assert len(data) == 1797 and data.in_channels == 1
    assert data.class_counts() == {
        str(c): n for c, n in zip(range(10), [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
    }


def test_shapes_is_deterministic():
    from suite.datasets.readers.shapes import generate

    first, first_masks = generate(4, 32)
    second, second_masks = generate(4, 32)
    assert np.array_equal(first, second) and np.array_equal(first_masks, second_masks)
    data = load_dataset("shapes", image_size=32)
    _check_form(data, 32)
    assert len(data) == 240
    share = data.targets.float().mean(dim=(1, 2))
    assert bool((share > 0).all()) and float(share.mean()) < 0.5
