"""The local executor: train each job in this process, in order, and yield its record."""

from __future__ import annotations

from typing import Callable, Iterable, Iterator

from suite.records import Job, RunRecord


class LocalExecutor:
    """One process, one job at a time; the dataset tensors are shared by every job of the grid and,
    on CUDA, copied to the GPU once for the whole grid rather than once per job."""

    name = "local"

    def map(
        self,
        jobs: Iterable[Job],
        data: object,
        progress: Callable[[Job, dict], None] | None = None,
    ) -> Iterator[RunRecord]:
        from suite.device import resolve_device
        from suite.train import run_one

        jobs = list(jobs)
        devices = {resolve_device(job.device) for job in jobs}
        if data is not None and len(devices) == 1 and (device := devices.pop()).type == "cuda":
            data = data.to(device)  # run_one's own move is then a no-op
        for job in jobs:
            report = (lambda info, job=job: progress(job, info)) if progress else None
            yield run_one(job, data=data, progress=report)
