"""``--jobs N``: N runs at once on this machine, each in its own spawned process with ``threads`` torch threads.

Tiny models use several cores poorly from one process (torch's threads wait on each other); N
single-threaded runs side by side finish a grid sooner (BENCHMARKS.md). The workers are a
``ProcessPoolExecutor`` over the ``spawn`` context (no forked torch or CUDA state); each gets the
grid's dataset once, when it starts, and returns records; only the driver writes the store. Epoch
progress comes back over a queue. A worker that dies (killed by the OS for memory, say) breaks the
pool: it is started again and the runs in flight are resubmitted, up to ``attempts`` times each,
after which the run is stored as failed with the reason. Workers ignore SIGINT: Ctrl-C reaches the
driver, which ends them and leaves the store as it was after the last finished run.
"""

from __future__ import annotations

import multiprocessing
import os
import queue as queue_module
import signal
import threading
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Callable, Iterable, Iterator

from suite.errors import SuiteError
from suite.executors._common import DeviceCopies
from suite.job_queue import JobQueue, as_queue
from suite.records import Job, RunRecord

_WORKER: dict = {}  # this worker process's data copies and progress queue, set by ``_start_worker``


def _start_worker(data: object, messages: multiprocessing.Queue, threads: int) -> None:
    import torch

    threading.Thread(target=_exit_with, args=(os.getppid(),), daemon=True).start()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    torch.set_num_threads(threads)
    _WORKER.update(copies=DeviceCopies(data), messages=messages)
    messages.put((None, os.getpid()))  # started: a pool that breaks later lost a run, not its start


def _exit_with(parent: int) -> None:
    """End this worker once its driver is gone (kill -9): an orphan would wait for calls forever."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _train(job: Job) -> RunRecord:
    from suite.train import run_one

    messages = _WORKER["messages"]
    return run_one(job, data=_WORKER["copies"].on(job.device), progress=lambda info: messages.put((job.key, info)))


class PoolExecutor:
    """``jobs`` worker processes, ``threads`` torch threads each; see the module docstring."""

    name = "local"

    def __init__(self, jobs: int, threads: int, attempts: int = 3):
        self.jobs, self.threads, self.attempts = jobs, threads, attempts

    def map(
        self,
        jobs: Iterable[Job] | JobQueue,
        data: object,
        progress: Callable[[Job, dict], None] | None = None,
    ) -> Iterator[RunRecord]:
        from suite.train import failed_record

        queue = as_queue(jobs)
        context = multiprocessing.get_context("spawn")
        messages = context.Queue()
        pool, started = self._pool(context, data, messages), 0  # workers of the current pool that came up
        in_flight: dict[Future, Job] = {}
        broken: Counter[str] = Counter()
        try:
            while True:
                while len(in_flight) < self.jobs and (job := queue.take(wait=not in_flight)) is not None:
                    in_flight[pool.submit(_train, job)] = job
                if not in_flight:
                    return
                done, _ = wait(in_flight, timeout=0.25, return_when=FIRST_COMPLETED)
                started += _relay(messages, in_flight.values(), progress)
                lost = []
                for future in done:
                    job = in_flight.pop(future)
                    if isinstance(future.exception(), BrokenProcessPool):
                        lost.append(job)
                    else:
                        yield future.result()  # an exception in a run is a bug: it stops the grid, as locally
                if not lost:
                    continue
                finished, _ = wait(in_flight, timeout=30)  # a broken pool fails the rest of its calls at once
                for future, job in list(in_flight.items()):
                    del in_flight[future]
                    if future in finished and not isinstance(future.exception(), BrokenProcessPool):
                        yield future.result()
                    else:
                        lost.append(job)
                _end(pool)
                started += _relay(messages, (), None)
                if not started:
                    raise SuiteError(
                        "--jobs: the worker processes died while starting (see the messages above); "
                        "run with --jobs 1 to see the error in this process"
                    )
                pool, started = self._pool(context, data, messages), 0
                for job in lost:  # every run in flight died with the pool; which one killed it is unknown
                    broken[job.key] += 1
                    if broken[job.key] >= self.attempts:
                        yield failed_record(job, self._died(broken[job.key]))
                    else:
                        in_flight[pool.submit(_train, job)] = job
        finally:
            _end(pool)
            messages.close()

    def _pool(self, context, data: object, messages) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self.jobs, mp_context=context, initializer=_start_worker, initargs=(data, messages, self.threads)
        )

    @staticmethod
    def _died(times: int) -> str:
        return (
            f"its worker process died {times} times (killed, e.g. by the system for lack of memory); "
            "run the same command with --retry-failed once memory is free, or use fewer --jobs"
        )


def _relay(messages, jobs: Iterable[Job], progress: Callable[[Job, dict], None] | None) -> int:
    """Pass the workers' epoch reports on to ``progress`` (for runs still in flight); returns how many
    workers reported that they started."""
    by_key = {job.key: job for job in jobs}
    started = 0
    while True:
        try:
            key, info = messages.get_nowait()
        except queue_module.Empty:
            return started
        if key is None:
            started += 1
        elif progress and key in by_key:
            progress(by_key[key], info)


def _end(pool: ProcessPoolExecutor) -> None:
    """Stop the pool now: queued calls are dropped and the workers ended, not waited for."""
    processes = list((getattr(pool, "_processes", None) or {}).values())  # the pool has no public kill
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)
