"""``load_dataset``: find the files, decode them once, and keep the uint8 tensors on disk and in memory.

Cache key: dataset name, reader version, image size and a fingerprint of the files' contents
(``_fingerprint.py``; BENCHMARKS.md measures what it costs).

Disk cache: ``<cache>/decoded/<name>/<size>px-<key>.pt`` (``torch.save``), written to a temporary name
and renamed, so a crash never leaves half a cache; the folder can be deleted at any time. A cache file
is read memory-mapped (copy-on-write: nothing written to the tensors reaches the file), so a new
process maps the file in milliseconds and pages come in from the OS cache as batches touch them; a
file replaced meanwhile keeps its old content mapped.
Memory cache: a process-level dict from key to ``LoadedDataset`` (treat it as read-only).
"""

from __future__ import annotations

import hashlib
import shlex
from pathlib import Path

import torch

from suite.datasets._cards import Card
from suite.datasets._decode import decode_samples
from suite.datasets._fingerprint import fingerprint
from suite.datasets._paths import cache_root, resolve_root, write_atomically
from suite.datasets._scan import Scan, Split
from suite.datasets.loaded import LoadedDataset
from suite.errors import DataError

FORMAT = 2  # layout of the cache file; bump to invalidate every cache
_MEMORY: dict[str, LoadedDataset] = {}


def missing_message(card: Card, root: Path, explicit: bool) -> str:
    """No data at ``root``: say where it comes from and where to put it."""
    place = (
        f"place it in {root} as {card.layout.description}"
        if explicit
        else f"place it as {card.layout.description} in {root}, or anywhere and pass --data-root PATH"
    )
    if card.origin == "download":
        url = card.source.files[0].url
        return f"no {card.title} at {root}; run `suite data fetch {card.name}` or download {url} and {place}"
    return (
        f"no {card.title} at {root}; it cannot be downloaded automatically: get it from {card.source.page} and {place}"
    )


def scan_dataset(name: str, root: str | Path | None = None, *, download: bool | None = None) -> tuple[Card, Scan]:
    """Run the reader; fetch first when nothing is there, the card has direct URLs and no root was given."""
    from suite.datasets import DATASETS
    from suite.datasets._download import fetch

    entry = DATASETS.entry(name)
    card: Card = entry.meta["card"]
    path = resolve_root(entry.name, root)
    if path.is_symlink() and not path.exists():
        raise DataError(
            f"the data root {path} is a symbolic link that cannot be followed (a loop, or to nothing); "
            "point it at the dataset"
        )
    scan = entry.obj(path, card)
    allowed = root is None if download is None else download
    if scan.missing and card.origin == "download" and allowed:
        fetch(card, path)
        scan = entry.obj(path, card)
    if scan.missing:
        raise DataError(missing_message(card, path, explicit=root is not None))
    return card, scan


def raise_problems(name: str, scan: Scan, root: str | Path | None = None) -> None:
    """The first problem of a scan as a DataError; the command that lists them all reads the same ``root``."""
    if scan.problems:
        where = f" --root {shlex.quote(str(root))}" if root is not None else ""
        more = (
            f" (and {len(scan.problems) - 1} more problems: run `suite data verify {name}{where}`)"
            if len(scan.problems) > 1
            else ""
        )
        raise DataError(scan.problems[0] + more)


def _decode(card: Card, scan: Scan, size: int) -> dict[str, Split]:
    if scan.decode is not None:
        return scan.decode(size)
    return {split: decode_samples(samples, size, card.in_channels) for split, samples in scan.splits.items() if samples}


def _assemble(card: Card, splits: dict[str, Split]) -> LoadedDataset:
    def build(split: Split, test: LoadedDataset | None) -> LoadedDataset:
        groups = split.groups
        if groups is None and card.groups.ranges:
            groups = [card.groups.group_of(i) for i in split.ids]
            groups = groups if all(g is not None for g in groups) else None
        return LoadedDataset(
            name=card.name,
            task=card.task,
            classes=list(card.classes),
            in_channels=int(split.images.shape[1]),
            images=split.images,
            targets=split.targets,
            ids=split.ids,
            groups=groups,
            valid=split.valid,
            test=test,
            strata=split.strata,
            order=card.groups.order,
        )

    test = build(splits["test"], None) if "test" in splits else None
    return build(splits["train"], test)


def _to_payload(data: LoadedDataset) -> dict:
    fields = {k: getattr(data, k) for k in ("images", "targets", "ids", "groups", "valid", "strata")}
    fields["test"] = _to_payload(data.test) if data.test is not None else None
    return fields


def _from_payload(card: Card, payload: dict) -> LoadedDataset:
    test = _from_payload(card, payload["test"]) if payload["test"] is not None else None
    return LoadedDataset(
        name=card.name,
        task=card.task,
        classes=list(card.classes),
        in_channels=int(payload["images"].shape[1]),
        test=test,
        order=card.groups.order,
        **{k: payload[k] for k in ("ids", "groups", "strata")},
        **{k: None if payload[k] is None else payload[k].contiguous() for k in ("images", "targets", "valid")},
    )


def load_dataset(name: str, root: str | Path | None = None, image_size: int | None = None) -> LoadedDataset:
    """The whole dataset as uint8 tensors at ``image_size`` (default: the card's), decoded at most once."""
    card, scan = scan_dataset(name.lower(), root)
    raise_problems(card.name, scan, root)
    size = image_size or card.image_size
    folder = cache_root() / "decoded" / card.name
    content = fingerprint(scan, folder / "file-hashes.json")
    key = hashlib.sha256(f"{FORMAT}\0{card.name}\0{size}\0{content}".encode()).hexdigest()[:24]
    if key in _MEMORY:
        return _MEMORY[key]
    path = folder / f"{size}px-{key}.pt"
    data = None
    if path.is_file():
        try:
            payload = torch.load(path, weights_only=True, mmap=True)
            data = _from_payload(card, payload)
        except Exception:  # any unreadable cache (truncated, garbage, older format): decode again
            data = None
    if data is None:
        data = _assemble(card, _decode(card, scan, size))
        payload = _to_payload(data)
        write_atomically(path, lambda handle: torch.save(payload, handle))
    _MEMORY[key] = data
    return data


def clear_memory_cache() -> None:
    _MEMORY.clear()
