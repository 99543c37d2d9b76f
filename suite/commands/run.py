"""``suite run`` (train a grid and show how each variant fares) and ``suite demo`` (the offline tour,
the variant set ``variants/demo.yaml``); ``run_studies`` trains any study (a grid, a small-data trial,
``suite sweep``, ``suite ablate``) with progress bars and ends with its report."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from suite.commands import _grid_options as opt
from suite.errors import Interrupted, SuiteError
from suite.executors.options import ExecutorOptions
from suite.grid import GridRequest
from suite.records import Job, RunRecord
from suite.runner import GridOutcome
from suite.spec import compact
from suite.studies.plan import StudyRequest

console = Console()

DEMO_SET = "demo"


def _fraction_text(grid) -> str:
    """`` at train fraction 0.25`` for a grid of a small-data trial, "" at the full training folds."""
    fraction = grid.jobs[0].recipe.get("train_fraction") if grid.jobs else None
    return f" at train fraction {fraction:g}" if fraction else ""


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
        where = grid.dataset + _fraction_text(grid)
        console.print(
            f"[bold]{where}[/]: {len(grid.specs)} specs x {grid.manifest.k} folds x "
            f"{len(grid.jobs) // (len(grid.specs) * grid.manifest.k)} seeds = {len(grid.jobs)} runs; "
            f"{stored} already in the store, {todo} to train"
        )
        for match in grid.controls:
            console.print(f"capacity control of {compact(match.variant)}: {match.describe()}")
        self.grid_task = self.progress.add_task(f"grid {where}", total=todo, status="")

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


def _requests(variants: list[str], grid: str | None, given: dict, overrides: dict, device: str) -> list[GridRequest]:
    """The grids to train: one from ``--variant``, or a variant set's, with the options given on the
    command line (``opt.given``) and the recipe overrides laid over the set's own."""
    from suite.variant_sets import available, load

    if grid is not None:
        if variants:
            raise SuiteError(f"pass --grid or --variant, not both; add the variants to the set {grid!r} instead")
        return [replace(r, **given, overrides={**r.overrides, **overrides}, device=device) for r in load(grid)]
    if not variants:
        raise SuiteError(
            f"no variant given; pass --variant SPEC (e.g. --variant unet+se) or --grid SET (sets: {', '.join(available())})"
        )
    return [GridRequest(variants=variants, **given, overrides=overrides, device=device)]


def run_studies(
    requests: list[StudyRequest],
    store: str | None,
    executor: ExecutorOptions,
    retry_failed: bool = False,
    dry_run: bool = False,
    summarize: bool = True,
) -> list[GridOutcome]:
    """Train each study in turn; every one is checked first, so a mistake in the last one stops the
    command before the first one trains. A signal stops it with the count of the runs kept.
    ``summarize``: print each study's report after it (``suite calibrate`` prints its own table).
    Returns the outcome of every grid trained (none on a dry run)."""
    from suite.studies.plan import check_study

    planned: list[set[str]] = []
    outcomes = []
    try:
        for request in requests:
            check_study(request)
        for request in requests:
            if len(requests) > 1:
                grid = request.grid
                changed = ", ".join(f"{k}={v}" for k, v in grid.overrides.items()) or "none"
                console.rule(f"{', '.join(grid.variants)} on {grid.dataset} ({grid.profile} profile; overrides: {changed})")
            outcomes += _run(request, store, executor, planned, retry_failed, dry_run, summarize)
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
    request: StudyRequest,
    store: str | None,
    executor: ExecutorOptions,
    planned: list[set[str]],
    retry_failed: bool,
    dry_run: bool,
    summarize: bool = True,
) -> list[GridOutcome]:
    """Plan the study, say its size and time estimate, then (unless ``dry_run``) train its grids and show its report."""
    from suite.runner import train_grid
    from suite.studies.plan import describe_size, plan_study

    study = plan_study(request)
    line, todo = describe_size(study, store)
    console.print(line)
    if dry_run:
        console.print(f"dry run: nothing trained; the same command without --dry-run trains {todo} run(s)")
        return []
    started = time.perf_counter()
    outcomes = []
    with GridProgress(planned) as bars:
        for _, grid in study.grids:
            outcomes.append(train_grid(
                grid,
                study.study,
                request.grid.device,
                store,
                executor,
                on_plan=bars.on_plan,
                on_progress=bars.on_progress,
                on_record=bars.on_record,
                retry_failed=retry_failed,
                on_reused=bars.on_reused,
                on_waiting=bars.on_waiting,
            ))  # fmt: skip
    trained, failed, skipped, overtaken = (
        sum(getattr(o, name) for o in outcomes) for name in ("trained", "failed", "skipped", "overtaken")
    )
    also = f"; {overtaken} of them trained here too" if overtaken else ""
    console.print(
        f"trained {trained} runs ({failed} failed), reused {skipped} from the store{also} "
        f"in {time.perf_counter() - started:.0f} s"
    )
    if summarize:
        _summarize(outcomes[-1])
    return outcomes


def _summarize(outcome: GridOutcome) -> None:
    """The study's verdicts in its family (its variants as planned) and its own tables, as
    ``suite compare --study`` shows them."""
    from suite.commands.compare import print_report
    from suite.reports.model import build_report
    from suite.store import read_calibrations, read_controls, read_runs

    path = outcome.store_path
    runs = read_runs(path, status=None, dataset=outcome.grid.dataset)
    report = build_report(runs, study=outcome.study, calibrations=read_calibrations(path), controls=read_controls(path))
    print_report(console, report)
    console.print(
        f"store: {outcome.store_path}  (study {outcome.study.name}: suite compare --study {outcome.study.name}; "
        "suite report / suite dashboard read it too)"
    )


def register(app: typer.Typer) -> None:
    @app.command()
    @opt.with_executor_options
    @opt.with_training_options
    def run(
        variant: list[str] = typer.Option([], "--variant", "-v", help="Variant spec, e.g. unet+se@decoder; repeat for several."),
        grid: Optional[str] = typer.Option(None, help="A variant set instead of --variant: a name in variants/ (demo, ci-digits, ...) or a YAML path."),
        *,
        training: opt.TrainingOptions,
        runner: ExecutorOptions,
    ) -> None:
        """Train the baseline and each variant on the same folds and seeds; show how each variant fares.

        Options given with --grid override the set's values; recipe overrides are laid over its own.
        With --train-fraction, each grid is a small-data trial: one grid per fraction, the verdict per fraction."""
        fractions = training.fractions()
        kind = "grid" if training.train_fraction is None else "fractions"
        requests = _requests(variant, grid, training.grid_options(), training.overrides(), training.job_device(runner))
        studies = [StudyRequest(kind, r, fractions) for r in requests]
        run_studies(studies, training.store, runner, training.retry_failed, training.dry_run)

    @app.command()
    def demo(
        store: Optional[str] = opt.StoreOption,
        folds: Optional[int] = typer.Option(None, help="k of the k-fold split (the set's 5; 3 is the fewest the verdict accepts)."),
        device: str = opt.DeviceOption,
        jobs: int = opt.JobsOption,
    ) -> None:
        """Offline tour: resnet18+se on digits and unet+se on the synthetic shapes set (variants/demo.yaml)."""
        from suite.executors import job_device

        runner = opt.executor_options("local", jobs)
        requests = _requests([], DEMO_SET, opt.given(folds=folds), {}, job_device(device, runner))
        run_studies([StudyRequest("grid", r) for r in requests], store, runner)
