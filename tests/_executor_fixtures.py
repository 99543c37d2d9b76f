"""What the executor tests share: a tiny real grid (digits), the rows that must not depend on the
executor, and a reference store trained by the local executor at one torch thread per run."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from suite.executors import ExecutorOptions
from suite.grid import GridRequest
from suite.runner import run_grid
from suite.store import read_runs

REPO = Path(__file__).resolve().parents[1]
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


def stored_count(store: Path) -> int:
    """Rows in the store's runs table, read without waiting on or creating anything (0 if none yet)."""
    if not store.exists():
        return 0
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
        try:
            return db.execute("SELECT count(*) FROM runs").fetchone()[0]
        except sqlite3.OperationalError:
            return 0


def kill_driver_mid_grid_then_rerun(store: Path, *executor_args: str) -> tuple[int, subprocess.CompletedProcess, float]:
    """``suite run`` of the tiny grid (3 epochs) with ``executor_args``, killed with SIGKILL once it has
    stored 2 runs, then the same command again to the end. Returns the runs kept by the killed driver,
    the second run's result and its wall time in seconds."""
    args = [sys.executable, "-m", "suite", "run", "-v", "resnet18+se", *TINY_ARGS, "--epochs", "3", *executor_args, "--store", str(store)]
    driver = subprocess.Popen(args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and driver.poll() is None and stored_count(store) < 2:
        time.sleep(0.1)
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    kept = stored_count(store)
    started = time.monotonic()
    finished = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=600)
    return kept, finished, time.monotonic() - started
