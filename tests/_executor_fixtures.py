"""What the executor tests share: a tiny real grid (digits), the rows that must not depend on the
executor, and a reference store trained by the local executor at one torch thread per run."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from suite.executors import ExecutorOptions
from suite.grid import GridRequest
from suite.runner import run_grid
from suite.store import read_runs

TINY = {"epochs": 1, "image_size": 8, "model.width": 4}
TINY_ARGS = [
    "--dataset", "digits", "--folds", "3", "--epochs", "1", "--image-size", "8", "--set", "model.width=4",
    "--device", "cpu",
]  # fmt: skip


def tiny_request(*variants: str, epochs: int = 1) -> GridRequest:
    """``variants`` (default resnet18+se) and their baseline on digits, 3 folds, a tiny network."""
    return GridRequest(list(variants or ["resnet18+se"]), dataset="digits", folds=3, overrides={**TINY, "epochs": epochs})


def rows(store: Path) -> pd.DataFrame:
    """Every stored run with what the executor must not change: key, cell, status, metrics, curves, cost
    counts (not the wall time, latency, device label or provenance)."""
    runs = read_runs(store, status=None)
    runs = runs.assign(curves=runs["curves"].map(lambda c: json.dumps(c, sort_keys=True)))
    keep = ["key", "spec", "fold", "seed", "status", "n_train", "n_val", "params", "gmacs", "curves"]
    keep += [c for c in runs.columns if c.startswith("val_")]
    return runs[keep].sort_values("key").reset_index(drop=True)


def owners(store: Path) -> pd.Series:
    """The driver (``host:pid:start``) that trained and stored each run, by key."""
    runs = read_runs(store, status=None)
    return runs.set_index("key")["provenance"].map(lambda p: p["claim_owner"])


def train_reference(store: Path) -> pd.DataFrame:
    """``rows`` of the tiny grid trained in this process by the local executor, one torch thread per run."""
    run_grid(tiny_request(), str(store), ExecutorOptions(cpus_per_run=1))
    return rows(store)
