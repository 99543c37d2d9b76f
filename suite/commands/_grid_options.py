"""The options of every command that trains (``suite run``, ``suite sweep``, ``suite ablate``), defined once,
and how they become a ``GridRequest``'s options and recipe overrides."""

from __future__ import annotations

import typer

from suite.errors import SuiteError, shown

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
ExecutorOption = typer.Option("local", help="local")
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


def check_executor(executor: str) -> None:
    from suite.executors import EXECUTORS

    if executor not in EXECUTORS:
        raise SuiteError(f"unknown executor {executor!r}; executors: {', '.join(EXECUTORS)}")
