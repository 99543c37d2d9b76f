"""Two ``suite run`` processes on one store at the same time: both finish, every run is stored once and
trained once, and a reader in the meantime always sees a consistent store."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _executor_fixtures import TINY_ARGS, owners

from suite.store import read_runs

REPO = Path(__file__).resolve().parents[1]


def _start(store: Path, variant: str) -> subprocess.Popen:
    env = {**os.environ, "COLUMNS": "200", "SUITE_CLAIM_LEASE_S": "30"}
    args = [sys.executable, "-m", "suite", "run", "-v", variant, *TINY_ARGS, "--epochs", "2", "--cpus-per-run", "1", "--store", str(store)]
    return subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _read_while_running(store: Path, drivers: list[subprocess.Popen]) -> int:
    """Read the store over and over while the drivers run; every snapshot must be whole. Returns how
    many snapshots had rows."""
    seen, previous = 0, 0
    while any(d.poll() is None for d in drivers):
        time.sleep(0.05)
        runs = read_runs(store, status=None)  # never "database is locked", never a half-written row
        if runs.empty:
            continue
        assert runs["key"].is_unique and set(runs["status"]) <= {"done"}
        assert runs["val_accuracy"].notna().all() and runs["curves"].map(lambda c: len(c["epoch"]) == 2).all()
        assert len(runs) >= previous  # rows only ever appear
        previous, seen = len(runs), seen + 1
    return seen


@pytest.mark.slow
@pytest.mark.parametrize(
    ("first", "second", "total"),
    [("resnet18+se", "resnet18+se", 6), ("resnet18+se", "resnet18+eca", 9)],  # identical; sharing the baseline
    ids=["identical-grids", "overlapping-grids"],
)
def test_two_drivers_on_one_store_share_the_grid(first: str, second: str, total: int, tmp_path: Path) -> None:
    store = tmp_path / "suite.db"
    drivers = [_start(store, first), _start(store, second)]
    try:
        assert _read_while_running(store, drivers) > 0
        outputs = [d.communicate(timeout=600) for d in drivers]
    finally:
        for driver in drivers:
            driver.kill()
            driver.wait()
    trained = {}
    for driver, (out, err) in zip(drivers, outputs):
        text = " ".join((out + err).split())
        assert driver.returncode == 0, err
        assert "locked" not in text and "already stored" not in text and "trained here too" not in text
        done = re.search(r"trained (\d+) runs \(0 failed\), reused (\d+) from the store", text)
        assert done, out
        assert int(done[1]) + int(done[2]) == 6  # each driver's grid is 6 runs: baseline and variant x 3 folds
        trained[driver.pid] = int(done[1])

    runs = read_runs(store, status=None)
    logs = "\n".join(out for out, _ in outputs)
    assert len(runs) == total and runs["key"].is_unique and set(runs["status"]) == {"done"}, (runs["spec"].value_counts(), logs)
    # No run trained twice: the drivers' trained counts add up to the rows, and each row names its trainer.
    assert sum(trained.values()) == total
    by_driver = owners(store).map(lambda owner: int(owner.split(":")[1])).value_counts().to_dict()
    assert by_driver == {pid: n for pid, n in trained.items() if n}
