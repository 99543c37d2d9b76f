"""Run claims: a driver leases a run's key in the store before training it, so that drivers sharing
one store (two terminals, two GPUs, a Ray driver and a local one) never train a run twice.

A claim (store schema v7, table ``claims``) names the key, its owner ``host:pid:start-token`` and
when its lease expires. The owner renews its leases while it lives (``Heartbeat``: a thread with its
own connection), so a run that trains for hours stays claimed. Another driver may take a claim over
once its lease has expired, or at once when the owner is a process of this host that no longer runs
(kill -9, power loss of a terminal). Storing the run drops its claim in the same transaction
(``Store.write``); a driver that stops releases the claims it still holds.

The lease lasts ``SUITE_CLAIM_LEASE_S`` seconds (default 180). Hosts sharing a store over a network
file system must keep their clocks in step (NTP) to well within that.
"""

from __future__ import annotations

import math
import os
import socket
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from suite._busy import BUSY_TIMEOUT_S, retry_busy
from suite.errors import SuiteError

LEASE_ENV = "SUITE_CLAIM_LEASE_S"
DEFAULT_LEASE_S = 180.0
CLAIMED, STORED, BUSY = "claimed", "stored", "busy"  # outcomes of ``claim``


@dataclass(frozen=True)
class Owner:
    """Who holds a claim: a driver process, named so that a later process with the same pid differs."""

    host: str
    pid: int
    token: str  # the process's start time in clock ticks since boot (Linux), else a random one

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}:{self.token}"

    @classmethod
    def parse(cls, text: str) -> "Owner | None":
        host, _, rest = text.rpartition(":")
        host, _, pid = host.rpartition(":")
        return cls(host, int(pid), rest) if host and pid.isdigit() else None


def _start_token(pid: int) -> str | None:
    """Field 22 of ``/proc/PID/stat`` (start time), or None when there is no such process or no /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()[19]  # the fields after the command name start at field 3


@lru_cache(maxsize=1)
def _this_process(pid: int) -> Owner:
    return Owner(socket.gethostname(), pid, _start_token(pid) or f"r{uuid.uuid4().hex[:12]}")


def current_owner() -> Owner:
    """This process as a claim owner (computed per pid, so a forked child is a new owner)."""
    return _this_process(os.getpid())


def owner_alive(owner: str) -> bool:
    """False only when ``owner`` is surely gone: a process of this host that is not running (or is
    another process under a recycled pid). Owners on other hosts count as alive: their lease decides."""
    parsed = Owner.parse(owner)
    if parsed is None or parsed.host != socket.gethostname():
        return True
    if Path("/proc/self/stat").exists():
        token = _start_token(parsed.pid)
        return token is not None and (token == parsed.token or not parsed.token.isdigit())
    try:
        os.kill(parsed.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lease_seconds(value: float | None = None) -> float:
    """The lease: ``value``, else ``$SUITE_CLAIM_LEASE_S``, else 180 s; a positive, finite number."""
    text = os.environ.get(LEASE_ENV, "") if value is None else value
    if text in ("", None):
        return DEFAULT_LEASE_S
    try:
        lease = float(text)
    except ValueError:
        lease = math.nan
    if not math.isfinite(lease) or lease <= 0:
        raise SuiteError(f"{LEASE_ENV}={text!r} is not a lease in seconds; use a positive number, e.g. 180")
    return lease


def failed_stamps(store) -> dict[str, tuple]:
    """{key: stamp} of the runs stored as failed; a retry claims a key only while its stamp is unchanged,
    so a failed run that another driver has retried meanwhile is not retried again."""
    with store.transaction() as conn:
        rows = conn.execute("SELECT key, finished_at, wall_s FROM runs WHERE status = 'failed'").fetchall()
    return {row[0]: (row[1], row[2]) for row in rows}


def claim(store, key: str, owner: Owner, lease_s: float, retry_stamp: tuple | None = None) -> str:
    """Claim ``key`` for ``owner`` in one transaction: ``CLAIMED``, ``STORED`` (a finished run is
    stored under the key) or ``BUSY`` (another live owner holds an unexpired lease)."""
    now = time.time()
    with store.transaction() as conn:
        row = conn.execute("SELECT finished_at, wall_s FROM runs WHERE key = ?", (key,)).fetchone()
        if row is not None and (retry_stamp is None or (row[0], row[1]) != retry_stamp):
            return STORED
        held = conn.execute("SELECT owner, expires_at FROM claims WHERE key = ?", (key,)).fetchone()
        if held is not None and held[0] != str(owner) and held[1] > now and owner_alive(held[0]):
            return BUSY
        conn.execute(
            "INSERT OR REPLACE INTO claims (key, owner, claimed_at, expires_at) VALUES (?, ?, ?, ?)",
            (key, str(owner), now, now + lease_s),
        )
    return CLAIMED


def release(store, owner: Owner) -> None:
    """Drop every claim ``owner`` still holds (runs it will not finish)."""
    with store.transaction() as conn:
        conn.execute("DELETE FROM claims WHERE owner = ?", (str(owner),))


class Heartbeat:
    """Renews ``owner``'s leases every quarter lease from a daemon thread with its own connection,
    for as long as the ``with`` block runs.

    The connection is a plain ``sqlite3`` one, not a second ``Store``: opening a ``Store`` reads the
    file's header with ``open()`` and ``close()``, and closing any descriptor of the file drops every
    POSIX lock this process holds on it, the driver's own connection's included (SQLite's documented
    hazard). Without its lock, another driver that finishes could delete the WAL under this one.
    """

    def __init__(self, path: Path, owner: Owner, lease_s: float):
        self.path, self.owner, self.lease_s = path, owner, lease_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="suite-claims-heartbeat", daemon=True)

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _beat(self) -> None:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            while not self._stop.wait(self.lease_s / 4):
                renewal = (time.time() + self.lease_s, str(self.owner))
                try:
                    retry_busy(lambda: conn.execute("UPDATE claims SET expires_at = ? WHERE owner = ?", renewal))
                except sqlite3.Error:
                    continue  # the store stayed locked for minutes: try again at the next beat
        finally:
            conn.close()
