"""Waiting out another process's write lock on the store: SQLite's busy timeout, then retries with backoff.

Several drivers may share one store (two terminals, two GPUs, a Ray driver and a local one). SQLite
waits ``busy_timeout`` for a lock by itself, but a few steps (switching a new file to WAL, recovering
a WAL after a crash) report ``database is locked`` at once; those are retried here with exponential
backoff and jitter until ``RETRY_S`` has passed, so a lock held for a moment never reaches the user.
"""

from __future__ import annotations

import random
import sqlite3
import time
from typing import Callable, TypeVar

BUSY_TIMEOUT_S = 30.0  # SQLite's own wait for a lock, per statement
RETRY_S = 120.0  # then retries; give up (one-line StoreError) after a lock held this long
_FIRST_WAIT_S, _LONGEST_WAIT_S = 0.02, 1.0

T = TypeVar("T")


def is_busy(err: BaseException) -> bool:
    """True for SQLite's "database is locked" / "database is busy" (another connection holds the lock)."""
    text = str(err).lower()
    return isinstance(err, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def retry_busy(action: Callable[[], T], retry_s: float = RETRY_S) -> T:
    """``action()``, called again after a growing, jittered pause while it fails with a busy error."""
    deadline = time.monotonic() + retry_s
    wait = _FIRST_WAIT_S
    while True:
        try:
            return action()
        except sqlite3.OperationalError as err:
            if not is_busy(err) or time.monotonic() + wait > deadline:
                raise
        time.sleep(wait * random.uniform(0.5, 1.5))
        wait = min(wait * 2, _LONGEST_WAIT_S)
