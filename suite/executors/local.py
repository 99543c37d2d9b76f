"""The local executor: train each job in this process, in order, and yield its record."""

from __future__ import annotations

from typing import Callable, Iterable, Iterator

from suite.executors._common import DeviceCopies, torch_threads
from suite.job_queue import JobQueue, as_queue
from suite.records import Job, RunRecord


class LocalExecutor:
    """One process, one job at a time, taken from the queue as the previous one finishes. The dataset
    tensors are shared by every job of the grid and, on CUDA, copied to the GPU once for the whole grid
    rather than once per job. ``threads``: torch threads for the runs (None: torch's default)."""

    name = "local"

    def __init__(self, threads: int | None = None):
        self.threads = threads

    def map(
        self,
        jobs: Iterable[Job] | JobQueue,
        data: object,
        progress: Callable[[Job, dict], None] | None = None,
    ) -> Iterator[RunRecord]:
        from suite.train import run_one

        copies = DeviceCopies(data)
        with torch_threads(self.threads):
            for job in as_queue(jobs):
                report = (lambda info, job=job: progress(job, info)) if progress else None
                yield run_one(job, data=copies.on(job.device), progress=report)
