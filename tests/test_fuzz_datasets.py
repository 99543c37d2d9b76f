"""Property test of dataset folders with random corruption: truncated, zero-byte, garbage and text files
under image names, images and masks of the wrong size, missing pairs, symbolic link loops, dangling and
sideways links, folders where files belong and files where folders belong.

Loading gives a whole decoded set or one ``DataError`` line; after an error the decoded-tensor cache holds
nothing (on disk or in memory: the same load fails again the same way), and ``suite data verify`` lists
one-line problems or fails in one line.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from _data_fixtures import write_busi, write_kvasir
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from suite.datasets import clear_memory_cache, load_dataset, verify_dataset
from suite.errors import DataError

SIZE = 16
BASES = {"kvasir-seg": lambda root: write_kvasir(root, count=5), "busi": lambda root: write_busi(root, {"benign": 2, "malignant": 2, "normal": 2})}
KINDS = ("truncate", "zero", "garbage", "text", "resize", "remove", "loop", "dangling", "sideways", "folder", "extra", "flatten")

corruptions = st.lists(
    st.tuples(st.sampled_from(KINDS), st.integers(0, 10**6), st.integers(0, 10**6)), min_size=1, max_size=3
)


@pytest.fixture(scope="module")
def bases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {name: write(tmp_path_factory.mktemp(name)) for name, write in BASES.items()}


def _corrupt(root: Path, kind: str, pick: int, amount: int) -> None:
    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())
    if not files:
        return
    target = files[pick % len(files)]
    data = target.read_bytes()
    if kind == "truncate":
        target.write_bytes(data[: amount % max(1, len(data))])
    elif kind == "zero":
        target.write_bytes(b"")
    elif kind == "garbage":
        target.write_bytes(np.random.default_rng(amount).integers(0, 256, 64 + amount % 512, dtype=np.uint8).tobytes())
    elif kind == "text":
        target.write_text("this is not an image\n")
    elif kind == "resize":
        side = 5 + amount % 40
        Image.new("RGB" if amount % 2 else "L", (side, side + 1)).save(target)  # the format its suffix names
    elif kind == "remove":
        target.unlink()
    elif kind == "loop":
        target.unlink()
        partner = target.with_name(f"{target.stem}-loop{target.suffix}")
        target.symlink_to(partner)
        partner.symlink_to(target)
    elif kind == "dangling":
        target.unlink()
        target.symlink_to(target.with_name("nowhere" + target.suffix))
    elif kind == "sideways":
        other = files[amount % len(files)]
        if other != target:
            target.unlink()
            target.symlink_to(other)
    elif kind == "folder":
        target.unlink()
        target.mkdir()
    elif kind == "extra":
        (target.parent / f"extra-{amount}{target.suffix}").write_bytes(data[: amount % max(1, len(data))])
    elif kind == "flatten":
        folder = target.parent
        shutil.rmtree(folder)
        folder.write_bytes(b"a file where a folder was")


def _load(name: str, root: Path, cache: Path):
    try:
        return load_dataset(name, root, image_size=SIZE)
    except DataError as err:
        message = str(err)
        assert message and "\n" not in message and len(message) < 2000
        assert not list(cache.rglob("*.pt")) and not list(cache.rglob("*.tmp")), "nothing of a failed set is kept"
        return message


@settings(max_examples=40, deadline=20_000, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.sampled_from(sorted(BASES)), corruptions)
def test_a_corrupt_folder_loads_whole_or_fails_in_one_line_and_caches_nothing(
    bases: dict[str, Path], name: str, damage: list[tuple[str, int, int]]
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root, cache = Path(scratch) / "data", Path(scratch) / "cache"
        shutil.copytree(bases[name], root, symlinks=True)
        for kind, pick, amount in damage:
            _corrupt(root, kind, pick, amount)
        previous = os.environ.get("SUITE_CACHE")
        os.environ["SUITE_CACHE"] = str(cache)
        clear_memory_cache()
        try:
            first = _load(name, root, cache)
            again = _load(name, root, cache)
            try:
                report = verify_dataset(name, root)
                assert all(p and "\n" not in p for p in report.problems)
            except DataError as err:
                assert "\n" not in str(err)
        finally:
            clear_memory_cache()
            if previous is None:
                os.environ.pop("SUITE_CACHE")
            else:
                os.environ["SUITE_CACHE"] = previous
    if isinstance(first, str):
        assert again == first, "a failed load is not half cached: it fails again the same way"
        return
    n = len(first.ids)
    assert n > 0 and first.images.shape == (n, first.in_channels, SIZE, SIZE) and first.targets.shape == (n, SIZE, SIZE)
    assert set(first.targets.unique().tolist()) <= {0, 1}
    assert not isinstance(again, str) and again.ids == first.ids and bool((again.images == first.images).all())
