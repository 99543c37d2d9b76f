"""A plain (non-editable) install works away from the checkout: the wheel carries the dataset cards,
recipes, variant sets and the dashboard, and the package finds them there."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "setup.py", "README.md", "suite", "datasets", "baselines", "variants", "dashboard")
CHECK = """
import suite
from suite.commands.dashboard import APP
from suite.datasets import DATASETS
from suite.recipe import load_recipe
from suite.variant_sets import available, load
assert "site" in suite.__file__, suite.__file__
assert load_recipe("resnet18", "cls", "full").epochs == 200
assert "demo" in available() and load("demo")[0].dataset == "digits"
assert {"kvasir-seg", "shapes"} <= set(DATASETS.list())
assert APP.is_file(), APP
print("ok")
"""


@pytest.mark.slow
def test_a_wheel_installed_away_from_the_checkout_finds_its_folders(tmp_path: Path) -> None:
    source = tmp_path / "source"  # a copy, so the build leaves nothing in the checkout
    source.mkdir()
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy(REPO / name, source / name)
    pip = [sys.executable, "-m", "pip"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path / "wheel"), str(source)], check=True, capture_output=True)
    (wheel,) = (tmp_path / "wheel").glob("suite-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for folder in ("datasets", "baselines", "variants", "dashboard"):
        shipped = {Path(n).name for n in names if n.startswith(f"suite/_bundled/{folder}/")}
        expected = {p.name for p in (REPO / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts}
        assert shipped == expected, folder
    subprocess.run([*pip, "install", "-q", "--no-deps", "--target", str(tmp_path / "site"), str(wheel)], check=True, capture_output=True)
    done = subprocess.run(
        [sys.executable, "-c", CHECK], cwd=tmp_path, env={"PYTHONPATH": str(tmp_path / "site"), "PATH": ""},
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
