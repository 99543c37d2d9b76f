"""``--executor slurm``: the grid's jobs as one SLURM job array (submitit ``map_array``).

- The driver takes every job it can claim now and submits them as one array; jobs that another
  driver is training are waited for and submitted as a later array if that driver stops.
- Partition, time limit and GPUs come from ``--slurm-partition``, ``--slurm-time`` and
  ``--gpus-per-run``, over a YAML file of submitit parameters (``--slurm-config``): any key of
  ``AutoExecutor.update_parameters`` (``slurm_partition``, ``timeout_min``, ``gpus_per_node``,
  ``cpus_per_task``, ``mem_gb``, ``slurm_array_parallelism``, ``slurm_additional_parameters``, ...),
  plus ``folder`` (logs and pickles; default ``results/slurm``) and ``cluster`` (``slurm``; ``local``
  runs the array as processes on this machine, submitit's local executor).
- The grid's dataset is saved once to the folder (a shared file system) and read by every task.
- Each task is checkpointable: on preemption or time-out SLURM requeues it and the run starts again.
- Results come back to the driver, which writes the store as each task finishes. Ctrl-C cancels the
  array (scancel); finished runs are in the store and the same command resumes.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Callable, Iterable, Iterator

from suite.errors import SuiteError
from suite.job_queue import JobQueue, as_queue
from suite.records import Job, RunRecord

DEFAULT_FOLDER = Path("results") / "slurm"


def import_submitit():
    try:
        import submitit
    except ImportError:
        raise SuiteError("--executor slurm needs submitit; install it with: pip install 'suite[dist]'") from None
    return submitit


def load_slurm_config(path: str | Path) -> dict:
    """The submitit parameters in the YAML file at ``path``: a mapping of names to values."""
    import yaml

    try:
        loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise SuiteError(f"cannot read the SLURM config {path} ({' '.join(str(err).split())[:200]})") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict) or not all(isinstance(k, str) for k in loaded):
        raise SuiteError(f"SLURM config {path} must be a mapping of submitit parameters, e.g. slurm_partition: gpu")
    return loaded


class _TrainTask:
    """One array task: load the grid data saved by the driver and train the job. Its ``checkpoint``
    method makes it requeueable (submitit's rule): on preemption or time-out the same call is requeued."""

    def __init__(self, data_path: str, threads: int):
        self.data_path, self.threads = data_path, threads

    def __call__(self, job: Job) -> RunRecord:
        import torch

        from suite.train import run_one

        torch.set_num_threads(self.threads)
        data = torch.load(self.data_path, weights_only=False) if self.data_path else None
        return run_one(job, data=data)

    def checkpoint(self, job: Job):
        from submitit.helpers import DelayedSubmission

        return DelayedSubmission(self, job)  # start the run again after a requeue


class SlurmExecutor:
    """Jobs as SLURM array tasks through submitit; see the module docstring."""

    name = "slurm"

    def __init__(self, parameters: dict, threads: int = 1, poll_s: float = 5.0):
        self.parameters = dict(parameters)
        self.threads, self.poll_s = threads, poll_s

    def map(
        self,
        jobs: Iterable[Job] | JobQueue,
        data: object,
        progress: Callable[[Job, dict], None] | None = None,
    ) -> Iterator[RunRecord]:
        import torch

        folder, executor = self._executor()
        data_path = folder / f"grid-data-{uuid.uuid4().hex[:12]}.pt"
        if data is not None:
            torch.save(data, data_path)
        queue = as_queue(jobs)
        pending: dict = {}  # submitit job -> Job
        try:
            while True:
                batch = []
                while (job := queue.take(wait=not pending and not batch)) is not None:
                    batch.append(job)
                if batch:
                    task = _TrainTask(str(data_path) if data is not None else "", self.threads)
                    for submitted, job in zip(executor.map_array(task, batch), batch):
                        pending[submitted] = job
                        if progress:
                            progress(job, {"status": f"SLURM job {submitted.job_id}"})
                if not pending:
                    return
                for submitted in [s for s in pending if s.done()]:
                    yield self._record(submitted, pending.pop(submitted))
                if pending:
                    time.sleep(self.poll_s)
        finally:
            for submitted in pending:
                submitted.cancel(check=False)
            data_path.unlink(missing_ok=True)

    def _executor(self):
        submitit = import_submitit()
        parameters = dict(self.parameters)
        folder = Path(parameters.pop("folder", DEFAULT_FOLDER)).expanduser().absolute()
        cluster = parameters.pop("cluster", "slurm")
        parameters.setdefault("timeout_min", 60)
        parameters.setdefault("cpus_per_task", self.threads)
        try:
            executor = submitit.AutoExecutor(folder=folder / "%j", cluster=cluster)
            executor.update_parameters(**parameters)
        except (RuntimeError, ValueError, TypeError, NameError) as err:
            raise SuiteError(f"submitit refused the SLURM settings ({' '.join(str(err).split())[:300]})") from None
        return folder, executor

    def _record(self, submitted, job: Job) -> RunRecord:
        """The task's record; a task that ended without one (killed, out of time after its requeues)
        becomes a failed record; an error inside the run stops the grid, as it does locally."""
        from submitit.core.utils import FailedJobError, UncompletedJobError

        from suite.train import failed_record

        try:
            return submitted.result()
        except FailedJobError as err:
            last = [line for line in str(err).splitlines() if line.strip()][-1:] or ["no message"]
            raise SuiteError(f"SLURM job {submitted.job_id} failed: {last[0].strip()} (log: {submitted.paths.stderr})") from None
        except UncompletedJobError:
            return failed_record(
                job,
                f"SLURM job {submitted.job_id} ended without a result (state {submitted.state}; log "
                f"{submitted.paths.stderr}); run the same command with --retry-failed",
            )
