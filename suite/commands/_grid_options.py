"""The options of every command that trains (``suite run``, ``suite sweep``, ``suite ablate``; ``suite
calibrate`` and ``suite demo`` take some), defined once, and how they become a ``GridRequest``'s
options, its recipe overrides and the executor's ``ExecutorOptions``."""

from __future__ import annotations

import typer

from suite.errors import SuiteError, shown
from suite.executors.options import ExecutorOptions

DatasetOption = typer.Option(None, help="Dataset name (suite data list); default: cifar10 for cls, kvasir-seg for seg.")
DataRootOption = typer.Option(None, help="Folder holding the dataset files.")
FoldsOption = typer.Option(None, help="k of the k-fold split (>= 3, the fewest a verdict accepts; default 5).")
SeedsOption = typer.Option(None, help="Repeats per fold with different init/order/augmentation seeds (default 1).")
SplitSeedOption = typer.Option(None, help="Seed of the fold split (default 0).")
ProfileOption = typer.Option(None, help="Recipe profile: quick (CPU minutes; the default) or full (GPU, paper numbers).")
DeviceOption = typer.Option("auto", help="auto | cpu | cuda")
StoreOption = typer.Option(None, help="SQLite store (default $SUITE_STORE or results/suite.db).")
EpochsOption = typer.Option(None, help="Override the recipe's epochs.")
BatchSizeOption = typer.Option(None, help="Override the recipe's batch size.")
LrOption = typer.Option(None, help="Override the recipe's learning rate.")
ImageSizeOption = typer.Option(None, help="Override the recipe's image size (px).")
SetOption = typer.Option([], "--set", help="Override any recipe key: KEY=VALUE (model.width=16).")
ExecutorOption = typer.Option(
    "local", help="local (this machine) | ray (a Ray cluster) | slurm (a SLURM queue, via submitit)."
)
JobsOption = typer.Option(
    1, "--jobs", "-j", help="Runs at once on this machine (local executor), each with cores / N torch threads."
)
CpusPerRunOption = typer.Option(
    None, help="CPU cores (torch threads) per run; default: cores / --jobs locally, 1 on Ray and SLURM."
)
GpusPerRunOption = typer.Option(
    None,
    help="GPUs per run on Ray (a fraction such as 0.25 packs runs onto one GPU) or SLURM; default: 1 on CUDA.",
)
AddressOption = typer.Option(
    None, help="Ray cluster to join: auto (a running `ray start --head`) or HOST:PORT; default: start a local one."
)
SlurmConfigOption = typer.Option(
    None, help="YAML file of submitit parameters for --executor slurm (slurm_partition, timeout_min, mem_gb, ...)."
)
SlurmPartitionOption = typer.Option(None, help="SLURM partition (over --slurm-config).")
SlurmTimeOption = typer.Option(None, help="SLURM time limit per run in minutes (over --slurm-config).")
RetryFailedOption = typer.Option(
    False, "--retry-failed", help="Train the runs stored as failed again (e.g. after an out-of-memory)."
)
TrainFractionOption = typer.Option(
    None,
    "--train-fraction",
    help="Small-data trial: train on these shares of each fold's training part, e.g. 0.1,0.25,0.5,1 (nested subsets, "
    "stratified by class, from the split seed; the validation fold is never touched). One grid per fraction.",
)
ControlOption = typer.Option(
    None,
    help="capacity: also train, per variant, its baseline widened to the variant's size (±2%) and compare the variant "
    "with it too (a second verdict: holds, and beyond capacity).",
)
MatchOption = typer.Option(None, help="What the capacity control matches: params (default) or gmacs.")
DryRunOption = typer.Option(False, "--dry-run", help="Print the study's size and time estimate, then stop (nothing trains).")


def recipe_overrides(epochs, batch_size, lr, image_size, settings: list[str]) -> dict:
    """Recipe overrides from the options; ``--set`` values stay text, which ``load_recipe`` reads as YAML."""
    overrides: dict = {}
    for setting in settings:
        name, sep, value = setting.partition("=")
        if not sep or not name.strip():
            raise SuiteError(f"--set {shown(setting)} is not KEY=VALUE; e.g. --set weight_decay=0.01 or --set model.width=16")
        overrides[name.strip()] = value.strip()
    for name, value in (("epochs", epochs), ("batch_size", batch_size), ("lr", lr), ("image_size", image_size)):
        if value is not None:
            overrides[name] = value
    return overrides


def given(**options: object) -> dict:
    """The grid options given on the command line (``None`` = not given: the request's default stays)."""
    return {name: value for name, value in options.items() if value is not None}


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
