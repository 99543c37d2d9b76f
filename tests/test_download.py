"""``fetch`` against a local HTTP server: unpacking, checksum mismatch, resume, unsafe archives, offline."""

from __future__ import annotations

import hashlib
import io
import socket
import stat
import tarfile
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from _data_fixtures import http_server, write_kvasir

from suite.datasets import fetch, load_card, load_dataset
from suite.datasets._cards import Card, Download
from suite.errors import DataError


def _zip_of(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                bundle.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def _card(url: str, filename: str, **checksums: str) -> Card:
    card = load_card("kvasir-seg")
    return replace(card, source=replace(card.source, files=(Download(url=url, filename=filename, **checksums),)))


@pytest.fixture
def kvasir_zip(tmp_path: Path) -> bytes:
    return _zip_of(write_kvasir(tmp_path / "source", count=4))


def _only_archive_left(root: Path, name: str) -> None:
    assert sorted(p.name for p in root.iterdir()) == [name], "nothing unpacked, no temporary folder left"


def test_fetch_verifies_and_unpacks(tmp_path: Path, kvasir_zip: bytes):
    with http_server({"kvasir-seg.zip": kvasir_zip}) as (url, requests):
        card = _card(f"{url}/kvasir-seg.zip", "kvasir-seg.zip", sha256=hashlib.sha256(kvasir_zip).hexdigest())
        root = fetch(card, tmp_path / "data")
        fetch(card, root)  # already there: nothing downloaded again
    assert len(requests) == 1
    assert (root / "Kvasir-SEG" / "images").is_dir() and not list(root.glob("*.part"))
    assert len(load_dataset("kvasir-seg", root, image_size=8)) == 4


def test_checksum_mismatch_deletes_the_file(tmp_path: Path, kvasir_zip: bytes):
    with http_server({"kvasir-seg.zip": kvasir_zip}) as (url, _):
        card = _card(f"{url}/kvasir-seg.zip", "kvasir-seg.zip", md5="0" * 32)
        with pytest.raises(DataError) as err:
            fetch(card, tmp_path / "data")
    message = str(err.value)
    assert "kvasir-seg.zip" in message and "0" * 32 in message and "deleted it" in message and "\n" not in message
    assert list((tmp_path / "data").iterdir()) == []


def test_interrupted_download_resumes_with_range(tmp_path: Path, kvasir_zip: bytes):
    root = tmp_path / "data"
    root.mkdir()
    half = len(kvasir_zip) // 2
    (root / "kvasir-seg.zip.part").write_bytes(kvasir_zip[:half])
    with http_server({"kvasir-seg.zip": kvasir_zip}) as (url, requests):
        fetch(_card(f"{url}/kvasir-seg.zip", "kvasir-seg.zip", sha256=hashlib.sha256(kvasir_zip).hexdigest()), root)
    assert requests == [("/kvasir-seg.zip", f"bytes={half}-")]
    assert (root / "kvasir-seg.zip").read_bytes() == kvasir_zip


def _unsafe_zip(name: str, symlink: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr("Kvasir-SEG/images/ok.txt", b"fine")
        info = zipfile.ZipInfo(name)
        if symlink:
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
        bundle.writestr(info, b"/etc/passwd" if symlink else b"escaped")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "entry, symlink",
    [
        ("../escaped.txt", False),
        ("Kvasir-SEG/../../escaped.txt", False),
        ("/tmp/escaped.txt", False),
        ("Kvasir-SEG/link", True),
    ],
)
def test_zip_entries_escaping_the_folder_are_refused(tmp_path: Path, entry: str, symlink: bool):
    root = tmp_path / "data"
    with http_server({"bad.zip": _unsafe_zip(entry, symlink)}) as (url, _):
        with pytest.raises(DataError) as err:
            fetch(_card(f"{url}/bad.zip", "bad.zip"), root)
    assert repr(entry) in str(err.value) and "refused to unpack" in str(err.value)
    _only_archive_left(root, "bad.zip")
    assert not (tmp_path / "escaped.txt").exists()


def test_tar_links_are_refused(tmp_path: Path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as bundle:
        link = tarfile.TarInfo("cifar-10-batches-py/data_batch_1")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        bundle.addfile(link)
    root = tmp_path / "data"
    with http_server({"c.tar.gz": buffer.getvalue()}) as (url, _):
        with pytest.raises(DataError, match="is a link"):
            fetch(_card(f"{url}/c.tar.gz", "c.tar.gz"), root)
    _only_archive_left(root, "c.tar.gz")


def test_offline_names_the_url_and_the_manual_route(tmp_path: Path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/kvasir-seg.zip"
    with pytest.raises(DataError) as err:
        fetch(_card(url, "kvasir-seg.zip"), tmp_path / "data")
    message = str(err.value)
    assert f"cannot reach {url}" in message and "images/<id>.jpg" in message and "--data-root" in message
    assert "sets that need no download: digits, shapes" in message


def test_missing_file_on_server(tmp_path: Path):
    with http_server({}) as (url, _):
        with pytest.raises(DataError, match="HTTP 404"):
            fetch(_card(f"{url}/gone.zip", "gone.zip"), tmp_path / "data")


def test_manual_sets_explain_how_to_get_them(tmp_path: Path):
    with pytest.raises(DataError, match="no direct download: get it from https://drive.grand-challenge.org"):
        fetch(load_card("drive"), tmp_path)
