"""Run claims in the store: owners and their liveness, leases, take-over, the claim queue, busy retries."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from suite._busy import retry_busy
from suite.claims import (
    BUSY,
    CLAIMED,
    STORED,
    Heartbeat,
    Owner,
    claim,
    current_owner,
    failed_stamps,
    lease_seconds,
    owner_alive,
    release,
)
from suite.errors import SuiteError
from suite.job_queue import ClaimQueue
from suite.records import Job, RunRecord, Seeds
from suite.store import Store

ELSEWHERE = Owner("another-host.example", 4242, "123")  # alive as far as this host can tell: its lease decides


def _job(fold: int) -> Job:
    return Job("unet", "shapes", None, 3, fold, Seeds(), "m" * 64, {}, "r")


def _record(job: Job, status: str = "done", finished_at: str = "2026-01-01T00:00:00+00:00") -> RunRecord:
    return RunRecord(
        job.key, job.spec, "unet", job.dataset, job.manifest_hash, job.k, job.fold, job.seeds, {}, "r", status,
        finished_at=finished_at,
    )  # fmt: skip


def _hold(store: Store, key: str, owner: Owner, expires_in: float) -> None:
    with store.transaction() as conn:
        conn.execute("INSERT OR REPLACE INTO claims VALUES (?, ?, ?, ?)", (key, str(owner), time.time(), time.time() + expires_in))


def _claims(store: Store) -> dict[str, tuple[str, float]]:
    with store.transaction() as conn:
        return {row[0]: (row[1], row[2]) for row in conn.execute("SELECT key, owner, expires_at FROM claims")}


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


def test_owner_names_host_pid_and_start_and_tells_a_dead_process_from_a_live_one():
    me = current_owner()
    assert Owner.parse(str(me)) == me and me.pid > 0 and me.token
    assert owner_alive(str(me))
    assert not owner_alive(str(Owner(me.host, _dead_pid(), me.token)))
    assert not owner_alive(str(Owner(me.host, me.pid, me.token + "1")))  # the pid, recycled by another process
    assert owner_alive(str(ELSEWHERE))


def test_claim_is_exclusive_until_the_run_is_stored(tmp_path: Path):
    job = _job(0)
    with Store(tmp_path / "suite.db") as store:
        assert claim(store, job.key, ELSEWHERE, 60) == CLAIMED
        assert claim(store, job.key, current_owner(), 60) == BUSY
        assert claim(store, job.key, ELSEWHERE, 60) == CLAIMED  # its own claim: renewed
        assert store.write(_record(job)) is True
        assert _claims(store) == {}  # the write dropped the claim in its transaction
        assert claim(store, job.key, current_owner(), 60) == STORED


def test_a_dead_owner_or_an_expired_lease_is_taken_over(tmp_path: Path):
    me = current_owner()
    dead, expired = _job(0), _job(1)
    with Store(tmp_path / "suite.db") as store:
        _hold(store, dead.key, Owner(me.host, _dead_pid(), me.token), expires_in=3600)  # kill -9 on this host
        _hold(store, expired.key, ELSEWHERE, expires_in=-1)  # another host stopped renewing
        assert claim(store, dead.key, me, 60) == CLAIMED
        assert claim(store, expired.key, me, 60) == CLAIMED
        assert {owner for owner, _ in _claims(store).values()} == {str(me)}


def test_queue_puts_a_run_of_another_driver_aside_and_takes_it_when_the_lease_expires(tmp_path: Path):
    held, free = _job(0), _job(1)
    waiting: list[int] = []
    with Store(tmp_path / "suite.db") as store:
        _hold(store, held.key, ELSEWHERE, expires_in=1.0)
        queue = ClaimQueue(store, [held, free], current_owner(), lease_s=2.0, on_waiting=waiting.append)
        assert queue.take(wait=False) == free  # the grid goes on with the others
        assert queue.take(wait=False) is None and waiting == [1]
        start = time.monotonic()
        assert queue.take(wait=True) == held  # then comes back and takes it over
        assert 0.3 < time.monotonic() - start < 5 and waiting == [1, 0]
        assert queue.take(wait=True) is None and queue.reused == 0


def test_queue_counts_a_run_another_driver_stored_as_reused(tmp_path: Path):
    job = _job(0)
    reused: list[str] = []
    path = tmp_path / "suite.db"
    another_driver_stores_it = (
        "import sys, time; sys.path.insert(0, sys.argv[2]); from test_claims import _job, _record; "
        "from suite.store import Store; time.sleep(0.5); Store(sys.argv[1]).write(_record(_job(0)))"
    )
    with Store(path) as store:
        _hold(store, job.key, ELSEWHERE, expires_in=60)
        queue = ClaimQueue(store, [job], current_owner(), lease_s=1.0, on_reused=lambda j: reused.append(j.key))
        other = subprocess.Popen([sys.executable, "-c", another_driver_stores_it, str(path), str(Path(__file__).parent)])
        assert queue.take(wait=True) is None
        assert other.wait() == 0 and reused == [job.key] and queue.reused == 1


def test_heartbeat_renews_the_leases_of_its_owner_only(tmp_path: Path):
    mine, theirs = _job(0), _job(1)
    me = current_owner()
    with Store(tmp_path / "suite.db") as store:
        claim(store, mine.key, me, 0.4)
        _hold(store, theirs.key, ELSEWHERE, expires_in=0.4)
        with Heartbeat(store.path, me, 0.4):
            time.sleep(1.2)
            claims = _claims(store)
        assert claims[mine.key][1] > time.time() > claims[theirs.key][1]
        release(store, me)
        assert set(_claims(store)) == {theirs.key}


def test_a_failed_run_is_retried_once_even_by_two_drivers(tmp_path: Path):
    job = _job(0)
    with Store(tmp_path / "suite.db") as store:
        store.write(_record(job, "failed", finished_at="2026-01-01T00:00:00+00:00"))
        stamps = failed_stamps(store)
        assert claim(store, job.key, current_owner(), 60) == STORED  # not asked to retry
        assert claim(store, job.key, current_owner(), 60, stamps[job.key]) == CLAIMED
        # Another driver retried it meanwhile (its row changed): this one does not train it again.
        store.write(_record(job, "failed", finished_at="2026-01-02T00:00:00+00:00"), replace=True)
        assert claim(store, job.key, ELSEWHERE, 60, stamps[job.key]) == STORED


def test_a_write_lock_held_by_another_process_is_waited_out(tmp_path: Path):
    path = tmp_path / "suite.db"
    Store(path).close()
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    threading.Timer(0.5, lambda: holder.execute("COMMIT")).start()
    with Store(path) as store:
        assert claim(store, _job(0).key, current_owner(), 60) == CLAIMED  # waited, no "database is locked"
    holder.close()


def _failing(message: str, times: int):
    calls: list[int] = []

    def action() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise sqlite3.OperationalError(message)
        return "done"

    return action, calls


def test_busy_errors_are_retried_with_backoff_and_others_are_not():
    action, calls = _failing("database is locked", times=2)
    assert retry_busy(action) == "done" and len(calls) == 3
    action, calls = _failing("no such table: runs", times=1)
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        retry_busy(action)
    assert len(calls) == 1
    action, calls = _failing("database is locked", times=10**6)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        retry_busy(action, retry_s=0.2)
    assert 1 < len(calls) < 50


@pytest.mark.parametrize("value", ["0", "-5", "nan", "inf", "soon"])
def test_lease_must_be_a_positive_number_of_seconds(value: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SUITE_CLAIM_LEASE_S", value)
    with pytest.raises(SuiteError, match="SUITE_CLAIM_LEASE_S"):
        lease_seconds()
    monkeypatch.setenv("SUITE_CLAIM_LEASE_S", "7.5")
    assert lease_seconds() == 7.5 and lease_seconds(3) == 3.0


def test_the_heartbeat_leaves_the_drivers_lock_on_the_store_in_place(tmp_path: Path):
    """While a driver runs, its connection keeps SQLite's shared lock on the database file, so another
    driver that finishes never takes itself for the last one and deletes the WAL this one still writes
    to (which lost runs). Probed as SQLite's lock bytes: another process cannot lock them exclusively."""
    path = tmp_path / "suite.db"
    probe = (
        "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR)\n"
        "try: fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 510, 0x40000002, os.SEEK_SET)\n"  # SQLite's SHARED range
        "except OSError: sys.exit(0)\n"
        "sys.exit(1)"
    )
    with Store(path) as store, Heartbeat(store.path, current_owner(), 0.2):
        time.sleep(0.5)  # the heartbeat has its connection and has renewed twice
        store.keys()
        assert subprocess.run([sys.executable, "-c", probe, str(path)]).returncode == 0, "the driver lost its lock"
