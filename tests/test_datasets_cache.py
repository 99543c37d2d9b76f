"""The decoded-tensor cache: reused from memory and disk, invalidated by content, never half-written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from _data_fixtures import disc_mask, write_cvc_official
from PIL import Image

import suite.datasets._fingerprint as file_hashes
import suite.datasets.cache as cache_module
from suite.datasets import clear_memory_cache, load_dataset


@pytest.fixture
def cvc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SUITE_CACHE", str(tmp_path / "cache"))
    clear_memory_cache()  # the same tiny set was loaded by other tests in this process
    return write_cvc_official(tmp_path / "cvc", range(1, 11))


def _no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("decoded again although the cache holds this data")

    monkeypatch.setattr(cache_module, "decode_samples", refuse)


def test_memory_then_disk(cvc: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    first = load_dataset("cvc-clinicdb", cvc, image_size=16)
    assert load_dataset("cvc-clinicdb", cvc, image_size=16) is first
    files = sorted(p.name for p in (tmp_path / "cache" / "decoded" / "cvc-clinicdb").iterdir())
    assert len(files) == 2 and files[0].startswith("16px-") and files[0].endswith(".pt")
    assert files[1] == "file-hashes.json"
    clear_memory_cache()
    _no_decoding(monkeypatch)
    again = load_dataset("cvc-clinicdb", cvc, image_size=16)
    assert again is not first
    assert torch.equal(again.images, first.images) and torch.equal(again.targets, first.targets)
    assert again.ids == first.ids and again.groups == first.groups


def test_a_cache_file_is_mapped_and_writing_the_tensors_never_reaches_it(cvc: Path, monkeypatch: pytest.MonkeyPatch):
    expected = load_dataset("cvc-clinicdb", cvc, image_size=16).images.clone()
    clear_memory_cache()
    _no_decoding(monkeypatch)
    mapped = load_dataset("cvc-clinicdb", cvc, image_size=16)
    (cache_file,) = (Path(os.environ["SUITE_CACHE"]) / "decoded" / "cvc-clinicdb").glob("16px-*.pt")
    assert str(cache_file) in Path("/proc/self/maps").read_text()  # mapped, not read into memory
    mapped.images.fill_(7)  # copy-on-write pages: this process sees 7s, the file keeps the images
    assert int(mapped.images.max()) == 7
    clear_memory_cache()
    assert torch.equal(load_dataset("cvc-clinicdb", cvc, image_size=16).images, expected)


def test_same_data_elsewhere_shares_the_cache(cvc: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    load_dataset("cvc-clinicdb", cvc, image_size=16)
    copy = tmp_path / "copy"
    os.rename(cvc, copy)
    clear_memory_cache()
    _no_decoding(monkeypatch)
    assert len(load_dataset("cvc-clinicdb", copy, image_size=16)) == 10


def test_image_size_is_part_of_the_key(cvc: Path):
    small = load_dataset("cvc-clinicdb", cvc, image_size=8)
    large = load_dataset("cvc-clinicdb", cvc, image_size=16)
    assert small.images.shape[-1] == 8 and large.images.shape[-1] == 16


def test_same_size_same_mtime_edit_is_noticed(cvc: Path):
    """Content hashing: a file rewritten with the same size and modification time still invalidates."""
    before = load_dataset("cvc-clinicdb", cvc, image_size=16)
    mask = cvc / "Ground Truth" / "4.tif"
    stat = mask.stat()
    Image.fromarray(255 - disc_mask(4, (32, 24))).save(mask)
    os.utime(mask, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert mask.stat().st_size == stat.st_size and mask.stat().st_mtime_ns == stat.st_mtime_ns
    clear_memory_cache()
    file_hashes.forget()  # as in a new process: only the memo file on disk remembers hashes
    after = load_dataset("cvc-clinicdb", cvc, image_size=16)
    position = after.ids.index("4")
    assert torch.equal(after.targets[position], 1 - before.targets[position])


def test_a_new_process_reuses_remembered_hashes(cvc: Path, monkeypatch: pytest.MonkeyPatch):
    first = load_dataset("cvc-clinicdb", cvc, image_size=16)
    clear_memory_cache()
    file_hashes.forget()

    def refuse(*args, **kwargs):
        raise AssertionError("re-hashed a file nobody wrote to")

    monkeypatch.setattr(file_hashes.hashlib, "file_digest", refuse)
    _no_decoding(monkeypatch)
    assert torch.equal(load_dataset("cvc-clinicdb", cvc, image_size=16).images, first.images)


def test_unreadable_cache_is_rebuilt(cvc: Path, tmp_path: Path):
    first = load_dataset("cvc-clinicdb", cvc, image_size=16)
    (cached,) = (tmp_path / "cache" / "decoded" / "cvc-clinicdb").glob("*.pt")
    cached.write_bytes(b"garbage")
    clear_memory_cache()
    again = load_dataset("cvc-clinicdb", cvc, image_size=16)
    assert torch.equal(again.images, first.images)
    assert cached.stat().st_size > 1000


def test_to_moves_every_tensor(cvc: Path):
    data = load_dataset("cvc-clinicdb", cvc, image_size=8)
    moved = data.to("meta")
    assert moved.images.device.type == moved.targets.device.type == "meta"
    assert data.images.device.type == "cpu", "the cached copy stays where it was"
