"""A tiny real study of each kind through the command line (``python -m suite`` in a subprocess, CPU, one epoch,
width 4, 3 folds): a sweep on shapes, an ablation that shares subsets with it (only the new subsets train), and a
small-data trial on digits; each prints its own table and records its study. A second ablation sharing subsets
with a first is planned against a store in ``test_studies_ablation.py``."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from suite.datasets import load_dataset, make_manifest
from suite.spec import key
from suite.store import read_runs, read_studies

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
TINY = ["--folds", "3", "--epochs", "1", "--image-size", "32", "--batch-size", "16", "--set", "model.width=4"]


def suite(store: Path, *args: str) -> str:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "200", "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "suite", *args, "--store", str(store)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return " ".join(done.stdout.split())


def test_a_sweep_then_an_ablation_that_reuses_its_stored_subsets(tmp_path):
    store = tmp_path / "suite.db"
    text = suite(store, "sweep", "unet+se", "--points", "enc1,dec1", "--modes", "after,residual", "--dataset", "shapes", *TINY)
    assert "5 specs x 3 folds x 1 seed(s) x 1 fraction(s) = 15 runs, 0 of them in the store" in text
    assert "Position sweep · shapes · dice" in text and "enc1 (/1)" in text and "dec1 (/1)" in text
    assert "se: best point " in text and "se:residual: best point " in text and "of 2 points hold" in text
    runs = read_runs(store)
    assert len(runs) == 15 and set(runs["status"]) == {"done"}

    text = suite(store, "ablate", "unet+se@enc1+cbam@dec1", "--dataset", "shapes", *TINY)
    assert "trained 6 runs (0 failed), reused 6 from the store" in text  # unet and unet+se@enc1 came from the sweep
    for words in ("main effect", "interaction", "leave-one-out drop", "Ablation effects · shapes · dice"):
        assert words in text
    assert "main effects that hold: " in text and ("synergy holds" in text or "no synergy holds" in text)
    runs = read_runs(store)
    assert len(runs) == 21 and runs["key"].is_unique
    assert {key("unet+se@enc1+cbam@dec1"), key("unet+cbam@dec1")} <= set(runs["spec"])
    assert sorted(s.kind for s in read_studies(store)) == ["ablation", "sweep"]


def test_a_small_data_trial_gives_a_verdict_per_fraction(tmp_path):
    store = tmp_path / "suite.db"
    text = suite(store, "run", "--variant", "resnet18+se", "--dataset", "digits", "--train-fraction", "0.25,1",
                 "--folds", "3", "--epochs", "1", "--set", "model.width=8")  # fmt: skip
    assert "2 specs x 3 folds x 1 seed(s) x 2 fraction(s) = 12 runs" in text
    assert "Gain by train fraction · digits · accuracy" in text and "resnet18+se@blocks" in text
    assert "resnet18+se@blocks by train fraction: 0.25: " in text and ", 1: " in text
    runs = read_runs(store)
    data = load_dataset("digits", image_size=16)
    manifest = make_manifest(data, 3, 0)
    quarter = runs[runs["recipe"].map(lambda r: r.get("train_fraction") == 0.25)]
    assert len(quarter) == 6 and len(runs) == 12
    for row in quarter.itertuples():
        assert row.n_train == math.ceil(0.25 * manifest.n_train(row.fold)) and row.n_val == manifest.n_val(row.fold)
    (study,) = read_studies(store)
    assert study.kind == "fractions" and study.design["fractions"] == [0.25, 1.0] and len(study.members) == 2
