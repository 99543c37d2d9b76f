"""The queues executors take jobs from, one at a time, as they have room for another run.

``take(wait)`` returns the next job, or None: with ``wait=False`` when no job is ready now, with
``wait=True`` only when no job will ever come. Iterating a queue takes with ``wait=True``.

- ``ListQueue``: a plain list of jobs (executors used on their own).
- ``ClaimQueue``: the driver's queue on a shared store. Each job is claimed in the store as it is
  handed out (``suite.claims``), so the claim covers exactly the runs in flight. A job another driver
  has stored meanwhile is skipped and counted as reused; a job another live driver is training is
  put aside, and the queue comes back to it once the other jobs are handed out: it is then either
  stored (reused) or, when the other driver's lease expires, claimed and handed out here.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Callable, Iterable, Iterator, Protocol

from suite.claims import BUSY, CLAIMED, Owner, claim
from suite.records import Job


class JobQueue(Protocol):
    def take(self, wait: bool) -> Job | None: ...


class ListQueue:
    """Every job of a list, in order, with nothing to claim."""

    def __init__(self, jobs: Iterable[Job]):
        self._jobs = deque(jobs)

    def take(self, wait: bool) -> Job | None:
        return self._jobs.popleft() if self._jobs else None

    def __iter__(self) -> Iterator[Job]:
        while (job := self.take(wait=True)) is not None:
            yield job


def as_queue(jobs: Iterable[Job] | JobQueue) -> JobQueue:
    """``jobs`` itself when it is a queue, else a ``ListQueue`` over it."""
    return jobs if hasattr(jobs, "take") else ListQueue(jobs)


class ClaimQueue:
    """Jobs claimed in ``store`` for ``owner`` as they are taken; see the module docstring.

    ``retry``: {key: stamp} of failed runs to train again (``suite.claims.failed_stamps``);
    ``on_reused(job)``: a job found stored by another driver; ``on_waiting(n)``: the number of jobs
    put aside because another driver trains them, whenever it changes.
    """

    def __init__(
        self,
        store,
        jobs: Iterable[Job],
        owner: Owner,
        lease_s: float,
        retry: dict[str, tuple] | None = None,
        on_reused: Callable[[Job], None] | None = None,
        on_waiting: Callable[[int], None] | None = None,
    ):
        self.store, self.owner, self.lease_s = store, owner, lease_s
        self.retry = retry or {}
        self.on_reused, self.on_waiting = on_reused, on_waiting
        self.pending = deque(jobs)
        self.waiting: list[Job] = []  # trained by another live driver
        self.reused = 0
        self.poll_s = min(5.0, lease_s / 10)
        self._next_poll = 0.0

    def take(self, wait: bool) -> Job | None:
        while True:
            while self.pending:
                job = self.pending.popleft()
                if self._claim(job):
                    return job
            if not self.waiting:
                return None
            if time.monotonic() >= self._next_poll:
                self._next_poll = time.monotonic() + self.poll_s
                for job in list(self.waiting):
                    if self._claim(job, again=True):
                        return job
                if not self.waiting:
                    return None
            if not wait:
                return None
            time.sleep(max(0.0, self._next_poll - time.monotonic()))

    def __iter__(self) -> Iterator[Job]:
        while (job := self.take(wait=True)) is not None:
            yield job

    def _claim(self, job: Job, again: bool = False) -> bool:
        """Try to claim ``job``; True when it is ours now, else it is counted as reused or put aside."""
        outcome = claim(self.store, job.key, self.owner, self.lease_s, self.retry.get(job.key))
        if outcome == BUSY:
            if not again:
                self.waiting.append(job)
                self._waiting_changed()
            return False
        if again:
            self.waiting.remove(job)
            self._waiting_changed()
        if outcome == CLAIMED:
            return True
        self.reused += 1
        if self.on_reused:
            self.on_reused(job)
        return False

    def _waiting_changed(self) -> None:
        if self.on_waiting:
            self.on_waiting(len(self.waiting))
