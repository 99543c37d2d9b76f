"""``fetch(card, root)``: download a card's files, verify their checksums and unpack archives safely.

- HTTP(S) with a rich progress bar; bytes go to ``<file>.part`` and an interrupted download resumes
  with a ``Range`` request (a server that ignores it is read again from the start);
- a published SHA-256 or MD5 is checked before the file takes its final name (so a file under its
  final name has passed); on a mismatch the file is deleted and the error says so;
- zip and tar archives are checked entry by entry before anything is written: absolute paths, ``..``
  components, symlinks, hard links and device files are refused. Entries are unpacked into a temporary
  folder beside the data and then moved into place file by file.
"""

from __future__ import annotations

import hashlib
import shutil
import stat
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from suite.datasets._cards import Card, Download
from suite.errors import DataError

CHUNK = 1 << 20
TIMEOUT_S = 30


def _unreachable(url: str, reason: object, card: Card, root: Path) -> DataError:
    from suite.datasets import DATASETS

    offline = [name for name in DATASETS.list() if DATASETS.entry(name).meta["card"].origin in ("bundled", "generated")]
    return DataError(
        f"cannot reach {url} ({reason}); download it by hand and place the files as {card.layout.description} "
        f"in {root}, or anywhere and pass --data-root PATH (sets that need no download: {', '.join(offline)})"
    )


def download(item: Download, target: Path, card: Card, console: Console | None = None) -> Path:
    """Fetch ``item.url`` into ``target.part`` (resuming what is there) and return that path."""
    partial = target.with_name(target.name + ".part")
    have = partial.stat().st_size if partial.exists() else 0
    request = urllib.request.Request(item.url, headers={"User-Agent": "suite-data-fetch"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as err:
        if err.code == 416 and have:  # the partial file already holds every byte
            return partial
        raise DataError(f"{item.url} answered HTTP {err.code} {err.reason}; check the URL in {card.path}") from None
    except (urllib.error.URLError, OSError) as err:
        raise _unreachable(item.url, getattr(err, "reason", err), card, target.parent) from None
    with response:
        resumed = response.status == 206
        length = response.headers.get("Content-Length")
        total = (int(length) + (have if resumed else 0)) if length else None
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=console or Console(stderr=True), transient=True) as progress:
            task = progress.add_task(target.name, total=total, completed=have if resumed else 0)
            try:
                with partial.open("ab" if resumed else "wb") as out:
                    while chunk := response.read(CHUNK):
                        out.write(chunk)
                        progress.advance(task, len(chunk))
            except OSError as err:
                raise _unreachable(
                    item.url, f"interrupted: {err}; run the command again to resume", card, target.parent
                ) from None
    size = partial.stat().st_size
    if total is not None and size < total:
        raise _unreachable(
            item.url, f"stopped after {size} of {total} bytes; run the command again to resume", card, target.parent
        )
    return partial


def verify_checksum(path: Path, item: Download, card: Card) -> None:
    """Compare with the card's published checksum; on a mismatch delete the file and raise."""
    for algorithm, expected in (("sha256", item.sha256), ("md5", item.md5)):
        if not expected:
            continue
        with path.open("rb") as handle:
            actual = hashlib.file_digest(handle, algorithm).hexdigest()
        if actual.lower() != expected.lower():
            path.unlink(missing_ok=True)
            raise DataError(
                f"{item.filename} from {item.url} has {algorithm} {actual}, not the {expected} in {card.path}; "
                f"deleted it: run `suite data fetch {card.name}` again (if it persists, the file changed upstream)"
            )


def _unsafe(name: str) -> bool:
    parts = PurePosixPath(name.replace("\\", "/")).parts
    return name.startswith(("/", "\\")) or (len(parts) > 0 and ":" in parts[0]) or ".." in parts


def _refuse(archive: Path, name: str, why: str) -> DataError:
    return DataError(
        f"{archive}: entry {name!r} {why}, which could write outside the data folder; refused to unpack "
        "anything: delete the archive and download it again from the card's URL"
    )


def _check_zip(archive: Path, bundle: zipfile.ZipFile) -> None:
    for info in bundle.infolist():
        if _unsafe(info.filename):
            raise _refuse(archive, info.filename, "has an absolute path or '..'")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise _refuse(archive, info.filename, "is a symbolic link")


def _check_tar(archive: Path, bundle: tarfile.TarFile) -> None:
    for member in bundle.getmembers():
        if _unsafe(member.name):
            raise _refuse(archive, member.name, "has an absolute path or '..'")
        if member.issym() or member.islnk():
            raise _refuse(archive, member.name, "is a link")
        if not (member.isfile() or member.isdir()):
            raise _refuse(archive, member.name, "is a device or special file")


def is_archive(path: Path) -> bool:
    return zipfile.is_zipfile(path) or (path.suffix != ".npz" and tarfile.is_tarfile(path))


def extract(archive: Path, destination: Path) -> None:
    """Unpack a zip or tar archive into ``destination`` after checking every entry (see module docstring)."""
    destination.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=destination, prefix=".unpacking-"))
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as bundle:
                _check_zip(archive, bundle)
                bundle.extractall(staging)
        else:
            with tarfile.open(archive) as bundle:
                _check_tar(archive, bundle)
                bundle.extractall(staging, filter="data")
        for path in sorted(staging.rglob("*")):
            target = destination / path.relative_to(staging)
            if path.is_dir():
                target.mkdir(parents=True, exist_ok=True)
            else:
                path.replace(target)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError) as err:
        raise DataError(f"{archive} is not a readable archive ({err}); delete it and download it again") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def fetch(card: Card, root: Path, console: Console | None = None) -> Path:
    """Download, verify and unpack every file of ``card`` into ``root``; files already there are kept."""
    if card.origin != "download":
        how = {
            "manual": f"get it from {card.source.page}, place it as {card.layout.description}, pass --data-root PATH",
            "bundled": "it ships with an installed package; nothing to download",
            "generated": "it is generated on first use; nothing to download",
        }[card.origin]
        raise DataError(f"{card.name} has no direct download: {how}")
    root.mkdir(parents=True, exist_ok=True)
    for item in card.source.files:
        target = root / item.filename
        marker = root / f".{item.filename}.unpacked"
        if not target.exists():
            partial = download(item, target, card, console)
            verify_checksum(partial, item, card)
            partial.replace(target)
        if is_archive(target) and not marker.exists():
            extract(target, root)
            marker.touch()
    return root
