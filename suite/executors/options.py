"""Which executor trains a grid, with what resources: ``ExecutorOptions`` (from ``suite run``'s options),
their checks (one-line errors before anything trains), the device the runs train on, and the executor."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from suite.errors import SuiteError

EXECUTORS = ("local", "ray", "slurm")


@dataclass(frozen=True)
class ExecutorOptions:
    name: str = "local"  # local | ray | slurm
    jobs: int = 1  # runs at once on this machine (local only)
    cpus_per_run: int | None = None  # CPU cores = torch threads per run; None: cores / jobs locally, 1 on Ray / SLURM
    gpus_per_run: float | None = None  # Ray (fractions pack runs onto one GPU) or SLURM (whole GPUs); None: 1 on CUDA
    address: str | None = None  # Ray cluster to join: auto or HOST:PORT; None: start a local one
    slurm: dict = field(default_factory=dict)  # submitit parameters (--slurm-config, --slurm-partition, --slurm-time)

    def check(self) -> "ExecutorOptions":
        """Raise ``SuiteError`` naming the fix for an option that does not fit the executor; returns self."""
        if self.name not in EXECUTORS:
            raise SuiteError(f"unknown executor {self.name!r}; executors: {', '.join(EXECUTORS)}")
        if self.jobs < 1:
            raise SuiteError(f"--jobs {self.jobs} is not a number of runs at once; use --jobs 1 or more")
        if self.jobs > 1 and self.name != "local":
            raise SuiteError(
                f"--jobs is for the local executor; with --executor {self.name} the runs at once follow "
                "--cpus-per-run and --gpus-per-run"
            )
        if self.cpus_per_run is not None and self.cpus_per_run < 1:
            raise SuiteError(f"--cpus-per-run {self.cpus_per_run} is not a number of cores; use 1 or more")
        if self.gpus_per_run is not None:
            self._check_gpus(self.gpus_per_run)
        if self.address is not None and self.name != "ray":
            raise SuiteError("--address names a Ray cluster; add --executor ray or drop --address")
        if self.slurm and self.name != "slurm":
            raise SuiteError("--slurm-config, --slurm-partition and --slurm-time are for --executor slurm")
        return self

    def _check_gpus(self, gpus: float) -> None:
        if self.name == "local":
            raise SuiteError("--gpus-per-run is for --executor ray or slurm; locally the runs use the --device given")
        if not math.isfinite(gpus) or gpus < 0:
            raise SuiteError(f"--gpus-per-run {gpus} is not a share of GPUs; use e.g. 1, 2 or 0.25")
        if gpus > 1 and not float(gpus).is_integer():
            raise SuiteError(f"--gpus-per-run {gpus:g}: above one GPU, ask for whole GPUs (e.g. 2)")
        if self.name == "slurm" and not float(gpus).is_integer():
            raise SuiteError(f"--gpus-per-run {gpus:g}: SLURM hands out whole GPUs; use --executor ray to share one")


def job_device(device: str, options: ExecutorOptions) -> str:
    """The device the runs train on: ``cuda`` when Ray or SLURM runs get GPUs (the driver itself may
    have none), else ``--device`` resolved on this machine (auto: CUDA when there is one)."""
    from suite.device import resolve_device

    if options.name != "local" and options.gpus_per_run:
        if device == "cpu":
            raise SuiteError("--gpus-per-run asks for GPUs but --device cpu trains on the CPU; drop one of them")
        return "cuda"
    return str(resolve_device(device))


def make_executor(options: ExecutorOptions | str = "local", device: str = "cpu"):
    """The executor ``options`` describe, for runs on ``device`` (a name alone: its defaults)."""
    from suite.executors._common import usable_cores

    options = (ExecutorOptions(options) if isinstance(options, str) else options).check()
    if options.name == "local":
        if options.jobs > 1:
            from suite.executors.pool import PoolExecutor

            return PoolExecutor(options.jobs, options.cpus_per_run or max(1, usable_cores() // options.jobs))
        from suite.executors.local import LocalExecutor

        return LocalExecutor(options.cpus_per_run)
    gpus = options.gpus_per_run if options.gpus_per_run is not None else float(device.startswith("cuda"))
    if options.name == "ray":
        from suite.executors.ray_tasks import RayExecutor

        return RayExecutor(options.address, options.cpus_per_run or 1, gpus)
    from suite.executors.slurm import SlurmExecutor

    parameters = dict(options.slurm)
    if gpus:
        parameters["gpus_per_node"] = int(gpus) if options.gpus_per_run is not None else parameters.get("gpus_per_node", 1)
    if options.cpus_per_run is not None:
        parameters["cpus_per_task"] = options.cpus_per_run
    return SlurmExecutor(parameters, threads=int(parameters.get("cpus_per_task", 1)))
