"""Dataset cards: the typed form of ``datasets/<name>.yaml`` and the checks that keep it complete.

A card says where a dataset comes from (page, direct downloads and their checksums), its license and
citation, how the files lie on disk and which reader decodes them, the default image size, the official
splits and which samples belong together (groups). A segmentation card also says how
its masks are scored beyond overlap (``scoring``: the NSD tolerance, the pixel spacing where it is
published, and whether the structures are tubular, which adds clDice). A card with a missing or invalid
field fails with one line that names the file and the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from suite._resources import folder
from suite.errors import DataError

TASKS = ("cls", "seg")
# How the files reach the user's disk: direct download, placed by hand, shipped in a package, generated.
ORIGINS = ("download", "manual", "bundled", "generated")
ORDERS = ("slice",)  # groups.order: how the ids are ordered where neighbours are alike


def cards_dir() -> Path:
    """The ``datasets/`` folder that holds the cards (suite._resources)."""
    return folder("datasets")


@dataclass(frozen=True)
class Download:
    """One file the publisher serves directly; ``sha256`` / ``md5`` only where a checksum is published."""

    url: str
    filename: str
    sha256: str | None = None
    md5: str | None = None


@dataclass(frozen=True)
class Source:
    page: str  # where the publisher describes the data and its terms
    files: tuple[Download, ...] = ()
    checksum: str = ""  # where the checksums come from, or "none published"


@dataclass(frozen=True)
class Layout:
    reader: str  # name of the registered reader function
    description: str  # the folders and file names the reader expects
    foreground: str = ""  # seg: which pixels are foreground and how mask files are binarized


@dataclass(frozen=True)
class Grouping:
    """Which samples are not independent: a statement, for id-numbered sets the id ranges per group, and
    ``order: slice`` for consecutive sections of one volume (neighbours are alike, so each fold is a
    contiguous block of the id order instead of a random draw)."""

    statement: str
    ranges: dict[str, tuple[int, int]] = field(default_factory=dict)
    order: str | None = None  # "slice": ids in natural order are consecutive sections

    def group_of(self, sample_id: str) -> str | None:
        if not self.ranges or not sample_id.isdigit():
            return None
        number = int(sample_id)
        for group, (first, last) in self.ranges.items():
            if first <= number <= last:
                return group
        return None


@dataclass(frozen=True)
class Scoring:
    """How a segmentation card's masks are scored beyond Dice and IoU."""

    nsd_tolerance_px: float  # NSD tolerance, in pixels of the mask as scored (the recipe's image size)
    pixel_spacing_mm: tuple[float, float] | None = None  # (row, column) mm per pixel of the original images
    original_size: tuple[int, int] | None = None  # (rows, columns) of the original images that spacing is for
    tubular: bool = False  # thin branching structures (vessels): clDice is scored too

    def spacing_at(self, size: int) -> tuple[float, float] | None:
        """mm per pixel (row, column) of masks resized from the original images to ``size`` x ``size``."""
        if self.pixel_spacing_mm is None or self.original_size is None:
            return None
        return tuple(mm * pixels / size for mm, pixels in zip(self.pixel_spacing_mm, self.original_size))


@dataclass(frozen=True)
class Card:
    name: str
    title: str
    task: str
    origin: str
    classes: tuple[str, ...]
    samples: dict[str, int]  # published sample count per official split (empty where it varies)
    image_size: int  # default square side, pixels
    in_channels: int
    license: str
    citation: str
    source: Source
    layout: Layout
    splits: str  # the official splits, or a statement that none is published
    groups: Grouping
    path: Path
    scoring: Scoring | None = None  # seg only

    @property
    def synthetic(self) -> bool:
        return self.origin == "generated"

    @property
    def label(self) -> str:
        """The name as shown to people: synthetic sets say so wherever they are listed."""
        return f"{self.name} (SYNTHETIC)" if self.synthetic else self.name

    @property
    def total_samples(self) -> int | None:
        return sum(self.samples.values()) if self.samples else None


class _Fields:
    """Typed access to one YAML mapping; every failure names the card file and the dotted field."""

    def __init__(self, data: Any, path: Path, prefix: str = ""):
        self.path, self.prefix = path, prefix
        if not isinstance(data, dict):
            raise self.error(prefix.rstrip(".") or "the card", "must be a mapping of fields")
        self.data = data

    def error(self, name: str, problem: str) -> DataError:
        return DataError(
            f"dataset card {self.path}: field '{name}' {problem}; fix the card (every card in "
            f"{cards_dir()} has the same fields)"
        )

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        name = self.prefix + key
        if key not in self.data or self.data[key] is None:
            if default is ...:
                raise self.error(name, "is missing")
            return default
        value = self.data[key]
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise self.error(name, f"must be a {expected}, not {type(value).__name__}")
        if isinstance(value, str) and not value.strip() and default is ...:
            raise self.error(name, "is empty")
        return value

    def choice(self, key: str, choices: tuple[str, ...]) -> str:
        value = self.get(key, str)
        if value not in choices:
            raise self.error(self.prefix + key, f"is {value!r}; choose one of: {', '.join(choices)}")
        return value

    def sub(self, key: str) -> "_Fields":
        return _Fields(self.get(key, dict), self.path, f"{self.prefix}{key}.")


def _downloads(fields: _Fields) -> tuple[Download, ...]:
    items = []
    for i, raw in enumerate(fields.get("files", list, [])):
        item = _Fields(raw, fields.path, f"{fields.prefix}files[{i}].")
        url = item.get("url", str)
        if not url.startswith(("https://", "http://")):
            raise item.error(item.prefix + "url", f"is {url!r}, not an http(s) URL")
        items.append(
            Download(
                url=url,
                filename=item.get("filename", str, url.rsplit("/", 1)[-1].split("?")[0]),
                sha256=item.get("sha256", str, None),
                md5=item.get("md5", str, None),
            )
        )
    return tuple(items)


def _grouping(fields: _Fields) -> Grouping:
    ranges = {}
    for group, bounds in fields.get("ranges", dict, {}).items():
        if not (isinstance(bounds, list) and len(bounds) == 2 and all(isinstance(b, int) for b in bounds)):
            raise fields.error(f"{fields.prefix}ranges.{group}", "must be [first, last] sample numbers")
        ranges[str(group)] = (bounds[0], bounds[1])
    order = fields.choice("order", ORDERS) if fields.get("order", str, None) is not None else None
    return Grouping(statement=fields.get("statement", str), ranges=ranges, order=order)


def _pair(fields: _Fields, key: str, kind: type) -> tuple | None:
    value = fields.get(key, list, None)
    if value is None:
        return None
    allowed = (int, float) if kind is float else int
    if not (len(value) == 2 and all(isinstance(v, allowed) and not isinstance(v, bool) and v > 0 for v in value)):
        raise fields.error(fields.prefix + key, f"must be [rows, columns]: two positive {kind.__name__}s")
    return tuple(kind(v) for v in value)


def _scoring(fields: _Fields) -> Scoring:
    tolerance = fields.get("nsd_tolerance_px", (int, float))
    if tolerance <= 0:
        raise fields.error(fields.prefix + "nsd_tolerance_px", f"is {tolerance}; give a positive number of pixels")
    spacing, size = _pair(fields, "pixel_spacing_mm", float), _pair(fields, "original_size", int)
    if (spacing is None) != (size is None):
        raise fields.error(
            fields.prefix + ("original_size" if size is None else "pixel_spacing_mm"),
            "is missing; give pixel_spacing_mm and the original_size it refers to together",
        )
    return Scoring(float(tolerance), spacing, size, fields.get("tubular", bool, False))


def parse_card(path: Path) -> Card:
    """Read and check one card file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise DataError(f"dataset card {path} cannot be read ({str(err).splitlines()[0]}); fix or restore it") from None
    top = _Fields(data, path)
    name = top.get("name", str)
    if name != path.stem:
        raise top.error("name", f"is {name!r} but the file is {path.name}; name the file <name>.yaml")
    task = top.choice("task", TASKS)
    origin = top.choice("origin", ORIGINS)
    classes = top.get("classes", list)
    if not classes or not all(isinstance(c, (str, int)) for c in classes):
        raise top.error("classes", "must be a non-empty list of class names")
    samples = top.get("samples", dict)
    if not all(isinstance(v, int) and v > 0 for v in samples.values()):
        raise top.error("samples", "must map split names to positive sample counts")
    image_size = top.get("image_size", int)
    if image_size < 8:
        raise top.error("image_size", f"is {image_size}; use a side of 8 pixels or more")
    in_channels = top.get("in_channels", int)
    if in_channels not in (1, 3):
        raise top.error("in_channels", f"is {in_channels}; use 1 (grey) or 3 (RGB)")
    source_fields = top.sub("source")
    source = Source(
        page=source_fields.get("page", str),
        files=_downloads(source_fields),
        checksum=source_fields.get("checksum", str),
    )
    if origin == "download" and not source.files:
        raise source_fields.error("source.files", "is empty but origin is 'download'; list the direct URLs")
    layout_fields = top.sub("layout")
    layout = Layout(
        reader=layout_fields.get("reader", str),
        description=layout_fields.get("description", str),
        foreground=layout_fields.get("foreground", str, ""),
    )
    if task == "seg" and not layout.foreground:
        raise layout_fields.error("layout.foreground", "is missing; say which pixels are foreground")
    scoring = _scoring(top.sub("scoring")) if task == "seg" else None
    splits = top.get("splits", (str, dict))
    if isinstance(splits, dict):
        splits = ", ".join(f"{k}: {v}" for k, v in splits.items())
    return Card(
        name=name,
        title=top.get("title", str),
        task=task,
        origin=origin,
        classes=tuple(str(c) for c in classes),
        samples={str(k): v for k, v in samples.items()},
        image_size=image_size,
        in_channels=in_channels,
        license=top.get("license", str),
        citation=top.get("citation", str),
        source=source,
        layout=layout,
        splits=splits,
        groups=_grouping(top.sub("groups")),
        path=path,
        scoring=scoring,
    )


@cache
def load_card(name: str) -> Card:
    """The card of dataset ``name`` (``datasets/<name>.yaml``)."""
    path = cards_dir() / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in cards_dir().glob("*.yaml")))
        raise DataError(f"no dataset card {path}; cards: {known}")
    return parse_card(path)


def card_names() -> list[str]:
    return sorted(p.stem for p in cards_dir().glob("*.yaml"))
