"""The options of every command that trains (``suite run``, ``suite sweep``, ``suite ablate``; ``suite
calibrate`` and ``suite demo`` take some), defined once, and how they become a ``GridRequest``'s
options, its recipe overrides and the executor's ``ExecutorOptions``.

Two decorators give a command a whole group at once: ``@with_executor_options`` adds the executor's
options and hands the command one checked ``runner: ExecutorOptions``; ``@with_training_options`` adds
the grid, recipe and store options and hands it one ``training: TrainingOptions``."""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass
from typing import Callable, Optional

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
    executor: str,
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
    return ExecutorOptions(executor, jobs, cpus_per_run, gpus_per_run, address, slurm).check()


_GROUPS = ("runner", "training")  # the parameters the decorators below fill; a command declares them keyword-only


def _adding_options(name: str, options: dict[str, tuple[object, object]], build: Callable[..., object]):
    """A decorator that adds ``options`` (parameter name -> (type, typer option)) after a command's own
    parameters and calls the command with ``name=build(**their values)`` instead of them."""

    def decorate(command: Callable) -> Callable:
        own = [p for p in inspect.signature(command, eval_str=True).parameters.values() if p.name not in _GROUPS]
        added = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=o, annotation=t) for n, (t, o) in options.items()]

        @functools.wraps(command)
        def with_group(**values):
            group = build(**{option: values.pop(option) for option in options})
            return command(**values, **{name: group})

        with_group.__signature__ = inspect.Signature(own + added)
        with_group.__annotations__ = {p.name: p.annotation for p in own + added}
        return with_group

    return decorate


EXECUTOR_OPTIONS = {
    "executor": (str, ExecutorOption),
    "jobs": (int, JobsOption),
    "cpus_per_run": (Optional[int], CpusPerRunOption),
    "gpus_per_run": (Optional[float], GpusPerRunOption),
    "address": (Optional[str], AddressOption),
    "slurm_config": (Optional[str], SlurmConfigOption),
    "slurm_partition": (Optional[str], SlurmPartitionOption),
    "slurm_time": (Optional[int], SlurmTimeOption),
}
with_executor_options = _adding_options("runner", EXECUTOR_OPTIONS, executor_options)


@dataclass(frozen=True)
class TrainingOptions:
    """What ``suite run``, ``suite sweep`` and ``suite ablate`` share besides the executor: the grid's
    options, the recipe overrides, the store and how to train (``--retry-failed``, ``--dry-run``)."""

    dataset: str | None
    data_root: str | None
    folds: int | None
    seeds: int | None
    split_seed: int | None
    profile: str | None
    device: str
    store: str | None
    epochs: int | None
    batch_size: int | None
    lr: float | None
    image_size: int | None
    set_: list[str]
    retry_failed: bool
    train_fraction: str | None
    dry_run: bool
    control: str | None
    match: str | None

    def grid_options(self) -> dict:
        """The ``GridRequest`` options given on the command line (``given``)."""
        names = ("dataset", "data_root", "folds", "seeds", "split_seed", "profile", "control", "match")
        return given(**{name: getattr(self, name) for name in names})

    def overrides(self) -> dict:
        return recipe_overrides(self.epochs, self.batch_size, self.lr, self.image_size, self.set_)

    def job_device(self, runner: ExecutorOptions) -> str:
        from suite.executors import job_device

        return job_device(self.device, runner)

    def fractions(self) -> tuple[float, ...]:
        from suite.studies.plan import parse_fractions

        return parse_fractions(self.train_fraction)


TRAINING_OPTIONS = {
    "dataset": (Optional[str], DatasetOption),
    "data_root": (Optional[str], DataRootOption),
    "folds": (Optional[int], FoldsOption),
    "seeds": (Optional[int], SeedsOption),
    "split_seed": (Optional[int], SplitSeedOption),
    "profile": (Optional[str], ProfileOption),
    "device": (str, DeviceOption),
    "store": (Optional[str], StoreOption),
    "epochs": (Optional[int], EpochsOption),
    "batch_size": (Optional[int], BatchSizeOption),
    "lr": (Optional[float], LrOption),
    "image_size": (Optional[int], ImageSizeOption),
    "set_": (list[str], SetOption),
    "retry_failed": (bool, RetryFailedOption),
    "train_fraction": (Optional[str], TrainFractionOption),
    "dry_run": (bool, DryRunOption),
    "control": (Optional[str], ControlOption),
    "match": (Optional[str], MatchOption),
}
with_training_options = _adding_options("training", TRAINING_OPTIONS, TrainingOptions)
