"""Every dataset card is complete and matches its registered reader; a broken card fails with one line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from suite.datasets import DATASETS, card_names, cards_dir, load_card
from suite.datasets._cards import ORIGINS, TASKS, parse_card
from suite.errors import DataError


def test_every_card_has_a_reader_and_every_reader_a_card():
    assert card_names(), f"no cards in {cards_dir()}"
    assert sorted(card_names()) == sorted(DATASETS.list())


@pytest.mark.parametrize("name", DATASETS.list())
def test_card_fields(name: str):
    card = load_card(name)
    entry = DATASETS.entry(name)
    assert card.path == cards_dir() / f"{name}.yaml"
    assert entry.obj.__name__ == card.layout.reader, "layout.reader must name the registered reader function"
    assert entry.meta["task"] == card.task in TASKS
    assert card.origin in ORIGINS
    assert card.classes and len(set(card.classes)) == len(card.classes)
    assert card.in_channels in (1, 3) and card.image_size >= 8
    assert card.license.strip() and card.citation.strip() and card.source.page.strip()
    assert card.source.checksum.strip(), "say where checksums come from, or 'none published'"
    assert card.groups.statement.strip(), "state the grouping, or that none is published"
    assert card.splits.strip()
    if card.task == "seg":
        assert card.layout.foreground.strip()
        assert card.scoring is not None and card.scoring.nsd_tolerance_px > 0, "say how masks are scored"
    else:
        assert card.scoring is None
    if card.origin == "download":
        assert card.source.files and all(f.url.startswith("https://") for f in card.source.files)
    for first, last in card.groups.ranges.values():
        assert first <= last


def test_synthetic_sets_say_so():
    synthetic = [n for n in DATASETS.list() if load_card(n).synthetic]
    assert synthetic == ["shapes"]
    card = load_card("shapes")
    assert "SYNTHETIC" in card.label and "SYNTHETIC" in card.title
    assert DATASETS.entry("shapes").meta["synthetic"] is True


def test_scoring_spacing_follows_the_scored_size_and_only_drive_is_tubular():
    membrane = load_card("isbi2012-membrane").scoring
    assert membrane.spacing_at(512) == pytest.approx((0.000004, 0.000004))  # 4 nm per pixel as published
    assert membrane.spacing_at(128) == pytest.approx((0.000016, 0.000016))  # a quarter of the pixels, 4x wider
    assert load_card("kvasir-seg").scoring.spacing_at(256) is None  # no spacing published: pixels only
    tubular = [n for n in DATASETS.list() if load_card(n).task == "seg" and load_card(n).scoring.tubular]
    assert tubular == ["drive"]


def test_cvc_groups_cover_the_612_frames_once():
    ranges = load_card("cvc-clinicdb").groups.ranges
    assert len(ranges) == 29
    covered = sorted(n for first, last in ranges.values() for n in range(first, last + 1))
    assert covered == list(range(1, 613))


def _write(tmp_path: Path, name: str, data: dict) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda d: d.pop("license"), "license"),
        (lambda d: d.update(task="detection"), "task"),
        (lambda d: d.update(in_channels=4), "in_channels"),
        (lambda d: d["layout"].pop("reader"), "layout.reader"),
        (lambda d: d["source"].update(files=[{"url": "ftp://x/y.zip"}]), "source.files[0].url"),
        (lambda d: d.update(samples={"train": -1}), "samples"),
        (lambda d: d["groups"].update(ranges={"seq01": [1]}), "groups.ranges.seq01"),
        (lambda d: d.pop("scoring"), "scoring"),
        (lambda d: d["scoring"].update(nsd_tolerance_px=0), "scoring.nsd_tolerance_px"),
        (lambda d: d["scoring"].update(tubular="yes"), "scoring.tubular"),
        (lambda d: d["scoring"].update(pixel_spacing_mm=[0.1, -0.1], original_size=[288, 384]), "scoring.pixel_spacing_mm"),
        (lambda d: d["scoring"].update(pixel_spacing_mm=[0.1, 0.1]), "scoring.original_size"),
    ],
)
def test_broken_card_names_file_and_field(tmp_path: Path, change, field: str):
    data = yaml.safe_load(load_card("cvc-clinicdb").path.read_text())
    change(data)
    path = _write(tmp_path, "cvc-clinicdb", data)
    with pytest.raises(DataError) as err:
        parse_card(path)
    message = str(err.value)
    assert str(path) in message and f"'{field}'" in message
    assert "\n" not in message


def test_card_name_must_match_file(tmp_path: Path):
    data = yaml.safe_load(load_card("drive").path.read_text())
    with pytest.raises(DataError, match="'name'"):
        parse_card(_write(tmp_path, "other", data))
