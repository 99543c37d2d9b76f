"""Executors turn jobs into run records; only the driver writes them to the store.

An executor is any object with ``map(jobs, data, progress) -> Iterator[RunRecord]`` yielding records
as runs finish. ``local`` (default) trains in this process, one job after another.
"""

from suite.executors.local import LocalExecutor

EXECUTORS = {"local": LocalExecutor}

__all__ = ["EXECUTORS", "LocalExecutor"]
