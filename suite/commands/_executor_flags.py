"""The executor options of every command that trains (``suite run``, ``suite calibrate``): their typer
declarations, written once, and their translation into checked ``ExecutorOptions``."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from suite.executors.options import ExecutorOptions

Executor = Annotated[
    str, typer.Option("--executor", help="local (this machine) | ray (a Ray cluster) | slurm (a SLURM queue, via submitit).")
]
Jobs = Annotated[
    int, typer.Option("--jobs", "-j", help="Runs at once on this machine (local executor), each with cores / N torch threads.")
]
CpusPerRun = Annotated[
    Optional[int],
    typer.Option("--cpus-per-run", help="CPU cores (torch threads) per run; default: cores / --jobs locally, 1 on Ray and SLURM."),
]
GpusPerRun = Annotated[
    Optional[float],
    typer.Option(
        "--gpus-per-run",
        help="GPUs per run on Ray (a fraction such as 0.25 packs runs onto one GPU) or SLURM; default: 1 when training on CUDA.",
    ),
]
Address = Annotated[
    Optional[str],
    typer.Option("--address", help="Ray cluster to join: auto (a running `ray start --head`) or HOST:PORT; default: start a local one."),
]
SlurmConfig = Annotated[
    Optional[str],
    typer.Option("--slurm-config", help="YAML file of submitit parameters for --executor slurm (slurm_partition, timeout_min, ...)."),
]
SlurmPartition = Annotated[Optional[str], typer.Option("--slurm-partition", help="SLURM partition (over --slurm-config).")]
SlurmTime = Annotated[
    Optional[int], typer.Option("--slurm-time", help="SLURM time limit per run in minutes (over --slurm-config).")
]


def executor_options(
    name: str,
    jobs: int = 1,
    cpus_per_run: int | None = None,
    gpus_per_run: float | None = None,
    address: str | None = None,
    slurm_config: str | None = None,
    slurm_partition: str | None = None,
    slurm_time: int | None = None,
) -> ExecutorOptions:
    """The executor options given, checked before anything is read or trained."""
    slurm: dict = {}
    if slurm_config is not None:
        from suite.executors.slurm import load_slurm_config

        slurm.update(load_slurm_config(slurm_config))
    if slurm_partition is not None:
        slurm["slurm_partition"] = slurm_partition
    if slurm_time is not None:
        slurm["timeout_min"] = slurm_time
    return ExecutorOptions(name, jobs, cpus_per_run, gpus_per_run, address, slurm).check()
