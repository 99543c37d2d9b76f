"""A real ``suite run`` subprocess on a tiny digits grid, stopped at a chosen moment by a chosen signal.

Each moment is found by waiting on state the process shows, not on a timer:

- ``cost``: the plan line is printed just before the cost of each spec is measured, and nothing is
  trained until that is done;
- ``training``: the store holds a finished run, so the next one is training;
- ``store write``: the test holds the store's write lock once the first run is stored; the next
  ``Store.write`` waits for it in SQLite's busy handler, which sleeps: the main thread's kernel wait
  channel says ``nanosleep`` (training never sleeps). The signal is sent there and the lock released,
  so the signal lands inside ``Store.write`` with its transaction begun.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MOMENTS = ("cost", "training", "store write")
RUNS = 6  # resnet18 and resnet18+se x 3 folds
# The runs a store can hold when the grid is stopped at each moment: none before training, some while
# training, and at a store write the first one only (the second one's transaction is abandoned).
KEPT_AT = {"cost": range(0, 1), "training": range(1, RUNS), "store write": range(1, 2)}
TIMEOUT_S = 300
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}  # one torch thread: on a busy machine two are many times slower


def grid_args(store: Path) -> list[str]:
    return [
        "run", "--variant", "resnet18+se", "--dataset", "digits", "--folds", "3", "--epochs", "1",
        "--image-size", "8", "--set", "model.width=4", "--store", str(store), "--device", "cpu",
    ]  # fmt: skip


def stored_runs(store: Path) -> int:
    """Runs in the store, read-only; 0 before its table exists."""
    if not store.exists():
        return 0
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
        try:
            return db.execute("SELECT count(*) FROM runs").fetchone()[0]
        except sqlite3.OperationalError:
            return 0


def integrity(store: Path) -> str:
    with sqlite3.connect(store) as db:
        return db.execute("PRAGMA integrity_check").fetchone()[0]


def can_see_waits() -> bool:
    return Path(f"/proc/{os.getpid()}/task/{os.getpid()}/wchan").is_file()


class RunningGrid:
    """``suite run`` on the tiny grid in a subprocess; its stdout lines are collected as they come."""

    def __init__(self, store: Path):
        self.store = store
        self.proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "suite", *grid_args(store)],
            cwd=REPO, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.deadline = time.monotonic() + TIMEOUT_S

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)

    def _wait(self, ready) -> None:
        while not ready():
            assert self.proc.poll() is None, f"the grid ended before the moment: {self.proc.stderr.read()}"
            assert time.monotonic() < self.deadline, "the moment never came"
            time.sleep(0.02)

    def _sleeping(self) -> bool:
        pid = self.proc.pid
        return "nanosleep" in Path(f"/proc/{pid}/task/{pid}/wchan").read_text()

    def stop_at(self, moment: str, signum: int) -> None:
        """Wait for ``moment`` and send ``signum`` there."""
        if moment == "cost":
            self._wait(lambda: any("to train" in line for line in self.lines))
            self.proc.send_signal(signum)
            return
        self._wait(lambda: stored_runs(self.store) >= 1)
        if moment == "training":
            self.proc.send_signal(signum)
            return
        lock = sqlite3.connect(self.store, isolation_level=None)
        try:
            lock.execute("BEGIN IMMEDIATE")
            self._wait(self._sleeping)
            self.proc.send_signal(signum)
            time.sleep(0.5)  # the kernel may hand the signal to any thread: let it arrive before the lock is free
        finally:
            lock.execute("ROLLBACK")
            lock.close()

    def finish(self) -> tuple[int, str, str]:
        """Exit code, stdout and stderr once the process has ended."""
        code = self.proc.wait(timeout=TIMEOUT_S)
        self.reader.join(timeout=10)
        return code, "".join(self.lines), self.proc.stderr.read()


def resume(store: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "suite", *grid_args(store)], cwd=REPO, env=ENV, capture_output=True, text=True,
        timeout=TIMEOUT_S,
    )


SIGNALS = {"SIGINT": (signal.SIGINT, 130), "SIGTERM": (signal.SIGTERM, 143)}
