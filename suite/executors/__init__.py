"""Executors turn jobs into run records; only the driver writes them to the store.

An executor is any object with ``map(jobs, data, progress) -> Iterator[RunRecord]`` yielding records
as runs finish. ``jobs`` is a queue (``suite.job_queue``) or a list; an executor takes the next job
when it has room for another run, so the driver claims in the store exactly the runs in flight.
``progress(job, info)`` gets ``run_one``'s per-epoch dict, or ``{"status": ...}`` where epochs are
not reported back.

- ``local`` (default): this process, one job after another (``local.py``); with ``--jobs N``, N
  spawned processes on this machine (``pool.py``);
- ``ray``: one Ray task per job, on a local or running cluster (``ray_tasks.py``);
- ``slurm``: one SLURM job array per batch of jobs, through submitit (``slurm.py``).

All of them give the same run keys; metrics are identical where each run has the same torch threads.
"""

from suite.executors.local import LocalExecutor
from suite.executors.options import EXECUTORS, ExecutorOptions, job_device, make_executor

__all__ = ["EXECUTORS", "ExecutorOptions", "LocalExecutor", "job_device", "make_executor"]
