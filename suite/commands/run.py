"""``suite run`` (train a grid and show how each variant fares) and ``suite demo`` (the offline tour,
the variant set ``variants/demo.yaml``)."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from suite.commands._executor_flags import (
    Address,
    CpusPerRun,
    Executor,
    GpusPerRun,
    Jobs,
    SlurmConfig,
    SlurmPartition,
    SlurmTime,
    executor_options,
)
from suite.errors import Interrupted, SuiteError, shown
from suite.executors.options import ExecutorOptions
from suite.grid import GridRequest
from suite.records import Job, RunRecord
from suite.runner import GridOutcome, run_grid
from suite.spec import compact

console = Console()

DEMO_SET = "demo"


def _overrides(epochs, batch_size, lr, image_size, settings: list[str]) -> dict:
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


class GridProgress:
    """Rich progress bars: the grid (done/total, ETA) and one per run in flight (epoch, loss, metric)."""

    def __init__(self, planned: list[set[str]]) -> None:
        self.planned = planned  # the run keys of every grid planned so far, for ``runs_kept``
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[status]}"),
            console=console,
            transient=False,
        )
        self.grid_task = None
        self.runs: dict[str, object] = {}  # run key -> its bar, while the run is in flight
        self.finished: set[str] = set()

    def __enter__(self) -> "GridProgress":
        self.progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.__exit__(*exc)

    def on_plan(self, grid, todo: int) -> None:
        self.planned.append({job.key for job in grid.jobs})
        stored = len(grid.jobs) - todo
        console.print(
            f"[bold]{grid.dataset}[/]: {len(grid.specs)} specs x {grid.manifest.k} folds x "
            f"{len(grid.jobs) // (len(grid.specs) * grid.manifest.k)} seeds = {len(grid.jobs)} runs; "
            f"{stored} already in the store, {todo} to train"
        )
        self.grid_task = self.progress.add_task(f"grid {grid.dataset}", total=todo, status="")

    def on_progress(self, job: Job, info: dict) -> None:
        if job.key in self.finished:
            return
        if job.key not in self.runs:
            label = f"{compact(job.spec)} fold {job.fold} seed {job.seed}"
            self.runs[job.key] = self.progress.add_task(label, total=info.get("epochs", 1), status="")
        metrics = "  ".join(
            f"{k.removeprefix('val_')} {v:.4g}" for k, v in info.items() if k.startswith("val_") and isinstance(v, float)
        )
        loss = info.get("train_loss")
        status = (f"loss {loss:.4f}  " if isinstance(loss, float) else "") + metrics
        self.progress.update(
            self.runs[job.key],
            total=info.get("epochs", 1),
            completed=info.get("epoch", 0),
            status=status or info.get("status", ""),
        )

    def _finish(self, key: str) -> None:
        self.finished.add(key)
        self.progress.advance(self.grid_task)
        if key in self.runs:
            self.progress.remove_task(self.runs.pop(key))

    def on_record(self, record: RunRecord) -> None:
        self._finish(record.key)
        if record.status != "done":
            console.print(f"[red]failed[/] {compact(record.spec)} fold {record.fold}: {record.error}")

    def on_reused(self, key: str) -> None:
        """A run another process sharing the store finished first."""
        self._finish(key)

    def on_waiting(self, count: int) -> None:
        status = f"{count} run{'s' * (count != 1)} in training by another process" if count else ""
        self.progress.update(self.grid_task, status=status)


def _requests(variants: list[str], grid: str | None, options: dict, overrides: dict, device: str) -> list[GridRequest]:
    """The grids to train: one from ``--variant``, or a variant set's, with the options given on the
    command line (``None`` = not given) and the recipe overrides laid over the set's own."""
    from suite.variant_sets import available, load

    given = {name: value for name, value in options.items() if value is not None}
    if grid is not None:
        if variants:
            raise SuiteError(f"pass --grid or --variant, not both; add the variants to the set {grid!r} instead")
        return [replace(r, **given, overrides={**r.overrides, **overrides}, device=device) for r in load(grid)]
    if not variants:
        raise SuiteError(
            f"no variant given; pass --variant SPEC (e.g. --variant unet+se) or --grid SET (sets: {', '.join(available())})"
        )
    return [GridRequest(variants=variants, **given, overrides=overrides, device=device)]


def _run_all(
    requests: list[GridRequest],
    store: str | None,
    executor: ExecutorOptions,
    retry_failed: bool = False,
    summarize: bool = True,
) -> list[GridOutcome]:
    """Train each grid in turn; every grid is checked first, so a mistake in the last one stops the
    command before the first one trains. A signal stops it with the count of the runs kept.
    ``summarize``: print each grid's verdicts after it (``suite calibrate`` prints its own table)."""
    from suite.grid import resolve

    planned: list[set[str]] = []
    outcomes = []
    try:
        for request in requests:
            resolve(request)
        for request in requests:
            if len(requests) > 1:
                changed = ", ".join(f"{k}={v}" for k, v in request.overrides.items()) or "none"
                console.rule(f"{', '.join(request.variants)} on {request.dataset} ({request.profile} profile; overrides: {changed})")
            outcomes.append(_run(request, store, executor, planned, retry_failed, summarize))
    except Interrupted as err:
        raise Interrupted(err.signum, runs_kept(store, planned)) from None
    return outcomes


def runs_kept(store: str | None, planned: list[set[str]]) -> int:
    """How many runs of the planned grids the store holds (done or failed), read after the runner let go
    of the store: a run committed just before the signal counts, one rolled back does not."""
    from suite.store import read_runs

    keys = set().union(*planned)
    return int(read_runs(store, status=None)["key"].isin(keys).sum()) if keys else 0


def _run(
    request: GridRequest,
    store: str | None,
    executor: ExecutorOptions,
    planned: list[set[str]],
    retry_failed: bool = False,
    summarize: bool = True,
) -> GridOutcome:
    started = time.perf_counter()
    with GridProgress(planned) as bars:
        outcome = run_grid(
            request,
            store,
            executor,
            on_plan=bars.on_plan,
            on_progress=bars.on_progress,
            on_record=bars.on_record,
            retry_failed=retry_failed,
            on_reused=bars.on_reused,
            on_waiting=bars.on_waiting,
        )
    overtaken = f"; {outcome.overtaken} of them trained here too" if outcome.overtaken else ""
    console.print(
        f"trained {outcome.trained} runs ({outcome.failed} failed), reused {outcome.skipped} from the store"
        f"{overtaken} in {time.perf_counter() - started:.0f} s"
    )
    if summarize:
        _summarize(outcome)
    return outcome


def _summarize(outcome: GridOutcome) -> None:
    """The grid's verdicts in the family of its study (its variants as planned), as ``suite compare --study`` shows them."""
    from suite.commands.compare import print_report
    from suite.reports.model import build_report
    from suite.store import read_calibrations, read_runs

    runs = read_runs(outcome.store_path, status=None, dataset=outcome.grid.dataset)
    calibrations = read_calibrations(outcome.store_path)
    print_report(console, build_report(runs, plan=outcome.study.plan(), calibrations=calibrations))
    console.print(
        f"store: {outcome.store_path}  (study {outcome.study.name}: suite compare --study {outcome.study.name}; "
        "suite report / suite dashboard read it too)"
    )


def register(app: typer.Typer) -> None:
    @app.command()
    def run(
        variant: list[str] = typer.Option([], "--variant", "-v", help="Variant spec, e.g. unet+se@decoder; repeat for several."),
        grid: Optional[str] = typer.Option(None, help="A variant set instead of --variant: a name in variants/ (demo, ci-digits, ...) or a YAML path."),
        dataset: Optional[str] = typer.Option(None, help="Dataset name (suite data list); default: cifar10 for cls, kvasir-seg for seg."),
        data_root: Optional[str] = typer.Option(None, help="Folder holding the dataset files."),
        folds: Optional[int] = typer.Option(None, help="k of the k-fold split (>= 3, the fewest a verdict accepts; default 5)."),
        seeds: Optional[int] = typer.Option(None, help="Repeats per fold with different init/order/augmentation seeds (default 1)."),
        split_seed: Optional[int] = typer.Option(None, help="Seed of the fold split (default 0)."),
        profile: Optional[str] = typer.Option(None, help="Recipe profile: quick (CPU minutes; the default) or full (GPU, paper numbers)."),
        device: str = typer.Option("auto", help="auto | cpu | cuda"),
        store: Optional[str] = typer.Option(None, help="SQLite store (default $SUITE_STORE or results/suite.db)."),
        epochs: Optional[int] = typer.Option(None, help="Override the recipe's epochs."),
        batch_size: Optional[int] = typer.Option(None, help="Override the recipe's batch size."),
        lr: Optional[float] = typer.Option(None, help="Override the recipe's learning rate."),
        image_size: Optional[int] = typer.Option(None, help="Override the recipe's image size (px)."),
        set_: list[str] = typer.Option([], "--set", help="Override any recipe key: KEY=VALUE (model.width=16)."),
        executor: Executor = "local",
        jobs: Jobs = 1,
        cpus_per_run: CpusPerRun = None,
        gpus_per_run: GpusPerRun = None,
        address: Address = None,
        slurm_config: SlurmConfig = None,
        slurm_partition: SlurmPartition = None,
        slurm_time: SlurmTime = None,
        retry_failed: bool = typer.Option(False, "--retry-failed", help="Train the runs stored as failed again (e.g. after an out-of-memory)."),
    ) -> None:
        """Train the baseline and each variant on the same folds and seeds; show how each variant fares.

        Options given with --grid override the set's values; recipe overrides are laid over its own."""
        from suite.executors import job_device

        runner = executor_options(
            executor, jobs, cpus_per_run, gpus_per_run, address, slurm_config, slurm_partition, slurm_time
        )
        options = dict(
            dataset=dataset, data_root=data_root, folds=folds, seeds=seeds, split_seed=split_seed, profile=profile
        )
        overrides = _overrides(epochs, batch_size, lr, image_size, set_)
        requests = _requests(variant, grid, options, overrides, job_device(device, runner))
        _run_all(requests, store, runner, retry_failed)

    @app.command()
    def demo(
        store: Optional[str] = typer.Option(None, help="SQLite store (default $SUITE_STORE or results/suite.db)."),
        folds: Optional[int] = typer.Option(None, help="k of the k-fold split (the set's 5; 3 is the fewest the verdict accepts)."),
        device: str = typer.Option("auto", help="auto | cpu | cuda"),
        jobs: Jobs = 1,
    ) -> None:
        """Offline tour: resnet18+se on digits and unet+se on the synthetic shapes set (variants/demo.yaml)."""
        from suite.executors import job_device

        runner = executor_options("local", jobs)
        _run_all(_requests([], DEMO_SET, {"folds": folds}, {}, job_device(device, runner)), store, runner)

