"""``suite run`` (train a grid and show how each variant fares) and ``suite demo`` (the offline tour)."""

from __future__ import annotations

import time
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from suite.errors import SuiteError
from suite.grid import GridRequest
from suite.records import Job, RunRecord
from suite.runner import GridOutcome, run_grid

console = Console()

# digits train with the quick profile as it is; the U-Net's quick profile is sized for 64 px membrane
# images, so shapes get 32 px, width 8 and 8 epochs. Both grids finish in minutes on 2 CPU cores.
DEMO_GRIDS = (
    ("resnet18+se", "digits", {}),
    ("unet+se", "shapes", {"image_size": 32, "epochs": 8, "model.width": 8}),
)


def _overrides(epochs, batch_size, lr, image_size, settings: list[str]) -> dict:
    overrides: dict = {}
    for setting in settings:
        name, sep, value = setting.partition("=")
        if not sep or not name:
            raise SuiteError(f"--set {setting!r} is not KEY=VALUE; e.g. --set weight_decay=0.01 or --set model.width=16")
        overrides[name.strip()] = _literal(value.strip())
    for name, value in (("epochs", epochs), ("batch_size", batch_size), ("lr", lr), ("image_size", image_size)):
        if value is not None:
            overrides[name] = value
    return overrides


def _literal(text: str) -> object:
    import ast

    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


class GridProgress:
    """Two rich progress bars: the grid (done/total, ETA) and the run in hand (epoch, loss, metric)."""

    def __init__(self) -> None:
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
        stored = len(grid.jobs) - todo
        console.print(
            f"[bold]{grid.dataset}[/]: {len(grid.specs)} specs x {grid.manifest.k} folds x "
            f"{len(grid.jobs) // (len(grid.specs) * grid.manifest.k)} seeds = {len(grid.jobs)} runs; "
            f"{stored} already in the store, {todo} to train"
        )
        self.grid_task = self.progress.add_task(f"grid {grid.dataset}", total=todo, status="")
        self.run_task = self.progress.add_task("run", total=1, status="", visible=False)

    def on_progress(self, job: Job, info: dict) -> None:
        label = f"{job.spec} fold {job.fold} seed {job.seed}"
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
            console.print(f"[red]failed[/] {record.spec} fold {record.fold}: {record.error}")


def _run(request: GridRequest, store: str | None, executor: str) -> GridOutcome:
    started = time.perf_counter()
    with GridProgress() as bars:
        outcome = run_grid(
            request,
            store,
            executor,
            on_plan=bars.on_plan,
            on_progress=bars.on_progress,
            on_record=bars.on_record,
        )
    console.print(
        f"trained {outcome.trained} runs ({outcome.failed} failed), reused {outcome.skipped} from the store "
        f"in {time.perf_counter() - started:.0f} s"
    )
    _summarize(outcome)
    return outcome


def _summarize(outcome: GridOutcome) -> None:
    from suite.commands.compare import print_comparison
    from suite.store import read_runs
    from suite.verdict import compare

    runs = read_runs(outcome.store_path, status=None, dataset=outcome.grid.dataset)
    runs = runs[runs["spec"].isin(outcome.grid.specs) & (runs["manifest_hash"] == outcome.grid.manifest.sha256)]
    print_comparison(console, compare(runs))
    console.print(f"store: {outcome.store_path}  (suite compare / suite report / suite dashboard read it)")


def register(app: typer.Typer) -> None:
    @app.command()
    def run(
        variant: list[str] = typer.Option(..., "--variant", "-v", help="Variant spec, e.g. unet+se@decoder; repeat for several."),
        dataset: Optional[str] = typer.Option(None, help="Dataset name (suite data list); default: cifar10 for cls, kvasir-seg for seg."),
        data_root: Optional[str] = typer.Option(None, help="Folder holding the dataset files."),
        folds: int = typer.Option(5, help="k of the k-fold split (>= 2)."),
        seeds: int = typer.Option(1, help="Repeats per fold with different init/order/augmentation seeds."),
        split_seed: int = typer.Option(0, help="Seed of the fold split."),
        profile: str = typer.Option("quick", help="Recipe profile: quick (CPU minutes) or full (GPU, paper numbers)."),
        device: str = typer.Option("auto", help="auto | cpu | cuda"),
        store: Optional[str] = typer.Option(None, help="SQLite store (default $SUITE_STORE or results/suite.db)."),
        epochs: Optional[int] = typer.Option(None, help="Override the recipe's epochs."),
        batch_size: Optional[int] = typer.Option(None, help="Override the recipe's batch size."),
        lr: Optional[float] = typer.Option(None, help="Override the recipe's learning rate."),
        image_size: Optional[int] = typer.Option(None, help="Override the recipe's image size (px)."),
        set_: list[str] = typer.Option([], "--set", help="Override any recipe key: KEY=VALUE (model.width=16)."),
        executor: str = typer.Option("local", help="local"),
    ) -> None:
        """Train the baseline and each variant on the same folds and seeds; show how each variant fares."""
        from suite.executors import EXECUTORS
        from suite.profile import resolve_device

        if executor not in EXECUTORS:
            raise SuiteError(f"unknown executor {executor!r}; executors: {', '.join(EXECUTORS)}")
        request = GridRequest(
            variants=variant,
            dataset=dataset,
            data_root=data_root,
            folds=folds,
            seeds=seeds,
            split_seed=split_seed,
            profile=profile,
            overrides=_overrides(epochs, batch_size, lr, image_size, set_),
            device=str(resolve_device(device)),
        )
        _run(request, store, executor)

    @app.command()
    def demo(
        store: Optional[str] = typer.Option(None, help="SQLite store (default $SUITE_STORE or results/suite.db)."),
        folds: int = typer.Option(5, help="k of the k-fold split (3 is the fewest the verdict accepts)."),
        device: str = typer.Option("auto", help="auto | cpu | cuda"),
    ) -> None:
        """Offline tour: resnet18+se on digits and unet+se on the synthetic shapes set (trimmed quick profile)."""
        from suite.profile import resolve_device

        for spec, name, overrides in DEMO_GRIDS:
            changed = ", ".join(f"{k}={v}" for k, v in overrides.items()) or "none"
            console.rule(f"{spec} on {name} (quick profile; overrides: {changed})")
            request = GridRequest(
                [spec], dataset=name, folds=folds, overrides=dict(overrides), device=str(resolve_device(device))
            )
            _run(request, store, "local")
