"""``suite run`` (train a grid and show how each variant fares) and ``suite demo`` (the offline tour,
the variant set ``variants/demo.yaml``)."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from suite.errors import Interrupted, SuiteError, shown
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
    """Two rich progress bars: the grid (done/total, ETA) and the run in hand (epoch, loss, metric)."""

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
        self.run_task = None
        self.current: str | None = None

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
        self.run_task = self.progress.add_task("run", total=1, status="", visible=False)

    def on_progress(self, job: Job, info: dict) -> None:
        label = f"{compact(job.spec)} fold {job.fold} seed {job.seed}"
        if label != self.current:
            self.current = label
            self.progress.reset(self.run_task, total=info.get("epochs", 1), visible=True)
        metrics = "  ".join(
            f"{k.removeprefix('val_')} {v:.4g}" for k, v in info.items() if k.startswith("val_") and isinstance(v, float)
        )
        loss = info.get("train_loss")
        self.progress.update(
            self.run_task,
            completed=info.get("epoch", 0),
            description=label,
            status=(f"loss {loss:.4f}  " if isinstance(loss, float) else "") + metrics,
        )

    def on_record(self, record: RunRecord) -> None:
        self.progress.advance(self.grid_task)
        if record.status != "done":
            console.print(f"[red]failed[/] {compact(record.spec)} fold {record.fold}: {record.error}")


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
    requests: list[GridRequest], store: str | None, executor: str, retry_failed: bool = False, summarize: bool = True
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
    executor: str,
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
        )
    console.print(
        f"trained {outcome.trained} runs ({outcome.failed} failed), reused {outcome.skipped} from the store "
        f"in {time.perf_counter() - started:.0f} s"
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
        executor: str = typer.Option("local", help="local"),
        retry_failed: bool = typer.Option(False, "--retry-failed", help="Train the runs stored as failed again (e.g. after an out-of-memory)."),
    ) -> None:
        """Train the baseline and each variant on the same folds and seeds; show how each variant fares.

        Options given with --grid override the set's values; recipe overrides are laid over its own."""
        from suite.executors import EXECUTORS
        from suite.device import resolve_device

        if executor not in EXECUTORS:
            raise SuiteError(f"unknown executor {executor!r}; executors: {', '.join(EXECUTORS)}")
        options = dict(
            dataset=dataset, data_root=data_root, folds=folds, seeds=seeds, split_seed=split_seed, profile=profile
        )
        overrides = _overrides(epochs, batch_size, lr, image_size, set_)
        requests = _requests(variant, grid, options, overrides, str(resolve_device(device)))
        _run_all(requests, store, executor, retry_failed)

    @app.command()
    def demo(
        store: Optional[str] = typer.Option(None, help="SQLite store (default $SUITE_STORE or results/suite.db)."),
        folds: Optional[int] = typer.Option(None, help="k of the k-fold split (the set's 5; 3 is the fewest the verdict accepts)."),
        device: str = typer.Option("auto", help="auto | cpu | cuda"),
    ) -> None:
        """Offline tour: resnet18+se on digits and unet+se on the synthetic shapes set (variants/demo.yaml)."""
        from suite.device import resolve_device

        _run_all(_requests([], DEMO_SET, {"folds": folds}, {}, str(resolve_device(device))), store, "local")
