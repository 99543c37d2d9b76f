"""Bad input is one DataError line that names the file and the fix, and leaves no cache or manifest behind."""

from __future__ import annotations

from pathlib import Path

import pytest
from _data_fixtures import disc_mask, rgb, write_busi, write_cifar10, write_cvc_official, write_kvasir
from PIL import Image

from suite.datasets import load_dataset, make_manifest, verify_dataset
from suite.errors import DataError


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("SUITE_CACHE", str(folder))
    return folder


def _load_fails(name: str, root: Path, cache: Path, *needles: str) -> str:
    with pytest.raises(DataError) as err:
        load_dataset(name, root, image_size=16)
    message = str(err.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message, message
    assert not list(cache.rglob("*.pt")) and not list(cache.rglob("*.tmp")), "nothing half-written"
    return message


def _kvasir(tmp_path: Path) -> Path:
    return write_kvasir(tmp_path / "kvasir", count=4)


def test_corrupt_image(tmp_path: Path, cache: Path):
    root = _kvasir(tmp_path)
    broken = root / "Kvasir-SEG" / "images" / "cju0001abc.jpg"
    broken.write_bytes(b"this is not a JPEG")
    _load_fails("kvasir-seg", root, cache, str(broken), "corrupt or truncated")


def test_truncated_image(tmp_path: Path, cache: Path):
    root = _kvasir(tmp_path)
    image = root / "Kvasir-SEG" / "images" / "cju0002abc.jpg"
    rgb(2, (64, 64)).save(image, quality=95)
    image.write_bytes(image.read_bytes()[:400])
    _load_fails("kvasir-seg", root, cache, str(image), "download it again")


def test_mask_without_image(tmp_path: Path, cache: Path):
    root = _kvasir(tmp_path)
    (root / "Kvasir-SEG" / "images" / "cju0003abc.jpg").unlink()
    mask = root / "Kvasir-SEG" / "masks" / "cju0003abc.jpg"
    _load_fails("kvasir-seg", root, cache, f"mask {mask} has no image", "add the image or remove the mask")


def test_image_without_mask(tmp_path: Path, cache: Path):
    root = write_busi(tmp_path / "busi", {"benign": 3, "malignant": 3, "normal": 3})
    folder = root / "Dataset_BUSI_with_GT" / "malignant"
    (folder / "malignant (2)_mask.png").unlink()
    _load_fails("busi", root, cache, f"image {folder / 'malignant (2).png'} has no mask", "add the mask")


def test_mask_of_another_size(tmp_path: Path, cache: Path):
    root = write_cvc_official(tmp_path / "cvc", range(1, 6))
    mask = root / "Ground Truth" / "3.tif"
    Image.fromarray(disc_mask(3, (20, 20))).save(mask)
    _load_fails("cvc-clinicdb", root, cache, str(mask), "20x20 px", "32x24 px", "replace the mask")


def test_empty_folder(tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch):
    empty = tmp_path / "nothing"
    empty.mkdir()
    _load_fails(
        "kvasir-seg", empty, cache, f"no Kvasir-SEG at {empty}", "suite data fetch kvasir-seg", "images/<id>.jpg"
    )
    monkeypatch.setenv("SUITE_DATA", str(empty))
    with pytest.raises(DataError) as err:
        load_dataset("drive", image_size=16)
    message = str(err.value)
    assert str(empty / "drive") in message and "cannot be downloaded automatically" in message
    assert "drive.grand-challenge.org" in message and "--data-root PATH" in message


def test_wrong_layout(tmp_path: Path, cache: Path):
    root = tmp_path / "flat"
    root.mkdir()
    rgb(0).save(root / "a.png")
    _load_fails("isbi2012-membrane", root, cache, "does not hold", "train/image/N.png", "found a.png")


def test_fewer_samples_or_groups_than_folds(tmp_path: Path, cache: Path):
    data = load_dataset("cvc-clinicdb", write_cvc_official(tmp_path / "cvc", range(1, 31)), image_size=8)
    assert len(set(data.groups)) == 2
    with pytest.raises(DataError, match="2 groups of related samples, fewer than k=3 folds; use k <= 2"):
        make_manifest(data, 3, 0)
    few = write_kvasir(tmp_path / "few", count=3)
    with pytest.raises(DataError, match="3 samples, fewer than k=5 folds"):
        make_manifest(load_dataset("kvasir-seg", few, image_size=8), 5, 0)
    assert not list(cache.glob("folds/**/*.json")) and not list(cache.rglob("*.tmp")), "no manifest written"


def test_unreadable_cifar_batch(tmp_path: Path, cache: Path):
    root = write_cifar10(tmp_path / "cifar", per_batch=4, test=2)
    (root / "cifar-10-batches-py" / "data_batch_3").write_bytes(b"\x80\x02garbage")
    with pytest.raises(DataError, match="cannot read the CIFAR-10 batches in .*run `suite data fetch cifar10`"):
        load_dataset("cifar10", root)
    assert not list(cache.rglob("*.pt"))


def test_verify_lists_masks_that_are_not_two_level(tmp_path: Path):
    root = write_cvc_official(tmp_path / "cvc", range(1, 4))
    grey = root / "Ground Truth" / "2.tif"
    values = disc_mask(2, (32, 24))
    values[0, :4] = 128
    Image.fromarray(values).save(grey)
    report = verify_dataset("cvc-clinicdb", root)
    assert not report.ok and report.counts == {"train": 3}
    assert report.problems == [
        f"mask {grey} has values 0, 128, 255; a lossless mask must have two levels (0 and one other)"
    ]
