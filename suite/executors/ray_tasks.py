"""``--executor ray``: one Ray task per job, on a local cluster or a running one (``--address``).

- Each job is a task asking for ``cpus_per_run`` CPUs (its torch threads) and ``gpus_per_run`` GPUs;
  a fraction such as 0.25 packs four small runs onto one GPU.
- The grid's dataset goes into the object store once (``ray.put``); a worker fetches it once for
  all the tasks it runs and, on a GPU, copies it there once.
- The driver submits as many tasks as the cluster has room for, takes the next job from its queue
  (claiming it in the store) as one finishes, and yields each record as it arrives (``ray.wait``);
  only the driver writes the store.
- A task whose worker process or node dies is retried by Ray (``max_retries``); after the last try
  the run is stored as failed with the reason. A run that fails inside (non-finite loss, out of
  memory) returns a failed record and is not retried.
- Ctrl-C cancels the tasks in flight; finished runs are in the store and the same command resumes.

Every node must have this version of suite installed (``pip install suite[dist]``) and read the
data the same way; with no ``--address`` a local cluster with this machine's CPUs and GPUs is
started and stopped around the grid.
"""

from __future__ import annotations

import math
import os
import socket
from pathlib import Path
from typing import Callable, Iterable, Iterator

from suite.errors import SuiteError
from suite.job_queue import JobQueue, as_queue
from suite.records import Job, RunRecord

_DATA: dict = {}  # in a Ray worker: {object id: DeviceCopies} of the grid it trains on now


def _train_on_ray(job: Job, data_box: list, threads: int) -> RunRecord:
    """The Ray task: train ``job`` on the grid data behind ``data_box[0]`` (an ObjectRef kept boxed,
    so that Ray passes the reference and the worker can keep the fetched data for its next task)."""
    import ray
    import torch

    from suite.executors._common import DeviceCopies
    from suite.train import run_one

    torch.set_num_threads(threads)
    (ref,) = data_box
    if ref.hex() not in _DATA:
        _DATA.clear()  # one grid's data at a time per worker
        _DATA[ref.hex()] = DeviceCopies(ray.get(ref))
    return run_one(job, data=_DATA[ref.hex()].on(job.device))


def import_ray():
    try:
        import ray
    except ImportError:
        raise SuiteError("--executor ray needs Ray; install it with: pip install 'suite[dist]'") from None
    return ray


def _check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """Raise ``ConnectionError`` unless something accepts TCP connections at ``HOST:PORT``."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"{address!r} is not HOST:PORT")
    with socket.create_connection((host, int(port)), timeout=timeout_s):
        pass


class RayExecutor:
    """Jobs as Ray tasks; see the module docstring."""

    name = "ray"

    def __init__(self, address: str | None = None, cpus_per_run: int = 1, gpus_per_run: float = 0.0, max_retries: int = 3):
        self.address, self.cpus, self.gpus, self.max_retries = address, cpus_per_run, gpus_per_run, max_retries

    def map(
        self,
        jobs: Iterable[Job] | JobQueue,
        data: object,
        progress: Callable[[Job, dict], None] | None = None,
    ) -> Iterator[RunRecord]:
        ray = import_ray()
        started = self._connect(ray)
        queue = as_queue(jobs)
        in_flight: dict = {}
        try:
            slots = self._slots(ray)
            task = ray.remote(_train_on_ray).options(
                num_cpus=self.cpus, num_gpus=self.gpus, max_retries=self.max_retries, retry_exceptions=False
            )
            box = [ray.put(data)]
            while True:
                while len(in_flight) < slots and (job := queue.take(wait=not in_flight)) is not None:
                    in_flight[task.remote(job, box, self.cpus)] = job
                    if progress:
                        progress(job, {"status": "in flight on Ray"})
                if not in_flight:
                    return
                ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=0.5)
                for ref in ready:
                    yield self._record(ray, ref, in_flight.pop(ref))
        finally:
            for ref in in_flight:
                ray.cancel(ref, force=True)
            if started:
                ray.shutdown()

    def _connect(self, ray) -> bool:
        """Join ``address`` (or the cluster this process already joined); start a local one if none is
        given. True when this call started the connection (and ends it after the grid)."""
        if ray.is_initialized():
            return False
        quiet = dict(logging_level="ERROR", log_to_driver=False)
        try:
            if self.address not in (None, "auto"):
                _check_reachable(self.address)  # Ray itself would retry an unreachable address for minutes
            if self.address:
                ray.init(address=self.address, **quiet)
            else:
                paths = [str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH", "")]
                env = {"PYTHONPATH": os.pathsep.join(p for p in paths if p)}  # workers import this very suite
                # "local": a new cluster even where RAY_ADDRESS or an earlier `ray start` names one
                ray.init(address="local", include_dashboard=False, runtime_env={"env_vars": env}, **quiet)
        except (OSError, RuntimeError, ValueError) as err:
            where = f"the Ray cluster at {self.address}" if self.address else "a local Ray cluster"
            raise SuiteError(
                f"cannot connect to {where} ({' '.join(str(err).split())[:200]}); start one with `ray start --head` "
                "and pass --address auto, or leave --address out to start a local one"
            ) from None
        return True

    def _slots(self, ray) -> int:
        """How many runs the cluster can train at once with the resources each asks for."""
        total = ray.cluster_resources()
        cpu, gpu = total.get("CPU", 0.0), total.get("GPU", 0.0)
        slots = math.floor(cpu / self.cpus + 1e-9) if self.cpus else math.inf
        if self.gpus:
            slots = min(slots, math.floor(gpu / self.gpus + 1e-9))
        if slots < 1:
            raise SuiteError(
                f"the Ray cluster has {cpu:g} CPUs and {gpu:g} GPUs, less than one run asks for "
                f"(--cpus-per-run {self.cpus}, --gpus-per-run {self.gpus:g}); ask for less or add nodes"
            )
        return int(min(slots, 10_000))

    def _record(self, ray, ref, job: Job) -> RunRecord:
        """The task's record; a run whose worker died on every try becomes a failed record."""
        from suite.train import failed_record

        try:
            return ray.get(ref)
        except ray.exceptions.RayTaskError as err:
            if isinstance(err.cause, SuiteError):
                raise err.cause from None
            raise
        except (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError, ray.exceptions.OutOfMemoryError) as err:
            return failed_record(
                job,
                f"its Ray worker died on each of {self.max_retries + 1} tries ({type(err).__name__}: killed, "
                "e.g. for lack of memory, or its node was lost); run the same command with --retry-failed",
            )
