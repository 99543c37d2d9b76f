"""``suite calibrate``: measure how often noise passes as a gain on real runs of one dataset and recipe."""

from __future__ import annotations

from typing import Optional

import typer
from rich import box
from rich.table import Table

from suite.commands import _grid_options as opt
from suite.errors import SuiteError
from suite.executors.options import ExecutorOptions

MIN_SPLITS = 5  # fewer split seeds cannot bound a rate usefully


def register(app: typer.Typer) -> None:
    @app.command()
    @opt.with_executor_options
    def calibrate(
        baseline: str = typer.Option(..., "--baseline", "-b", help="The baseline to calibrate, e.g. resnet18 or unet."),
        dataset: Optional[str] = opt.DatasetOption,
        data_root: Optional[str] = opt.DataRootOption,
        split_seeds: int = typer.Option(20, "--split-seeds", help="How many fold manifests (split seeds 0..N-1)."),
        folds: int = typer.Option(5, help="k of each k-fold split (>= 3)."),
        placebo: bool = typer.Option(True, "--placebo/--no-placebo", help="Also run the placebo arm (B+identity)."),
        metric: Optional[str] = typer.Option(None, help="Metric of the verdicts (default: accuracy for cls, dice for seg)."),
        profile: Optional[str] = opt.ProfileOption,
        epochs: Optional[int] = opt.EpochsOption,
        image_size: Optional[int] = opt.ImageSizeOption,
        set_: list[str] = opt.SetOption,
        device: str = opt.DeviceOption,
        store: Optional[str] = opt.StoreOption,
        *,
        runner: ExecutorOptions,
    ) -> None:
        """A/A (the baseline re-seeded) and placebo (B+identity) against the baseline over N split seeds:
        the empirical rate of false "holds" and "worse" on this data and recipe, stored and shown in reports."""
        from suite.commands.run import console, run_studies
        from suite.executors import job_device
        from suite.grid import GridRequest
        from suite.store import Store, read_runs
        from suite.studies.calibrate import PLACEBO_MODULE, evaluate
        from suite.studies.plan import StudyRequest

        if split_seeds < MIN_SPLITS:
            raise SuiteError(f"--split-seeds {split_seeds} cannot bound a rate; use {MIN_SPLITS} or more (20 is usual)")
        overrides = opt.recipe_overrides(epochs, None, None, image_size, set_)
        where = job_device(device, runner)
        common = dict(dataset=dataset, data_root=data_root, folds=folds, overrides=overrides, device=where)
        if profile is not None:
            common["profile"] = profile
        requests = []
        for seed in range(split_seeds):
            requests.append(GridRequest([baseline], seeds=2, split_seed=seed, **common))
            if placebo:
                requests.append(GridRequest([f"{baseline}+{PLACEBO_MODULE}"], seeds=1, split_seed=seed, **common))
        outcomes = run_studies([StudyRequest("grid", r) for r in requests], store, runner, summarize=False)
        manifests = {outcome.grid.manifest.seed: outcome.grid.manifest.sha256 for outcome in outcomes}
        (recipe_hash,) = {job.recipe_hash for outcome in outcomes for job in outcome.grid.jobs}
        grid = outcomes[0].grid
        runs = read_runs(outcomes[0].store_path, status=None, dataset=grid.dataset)
        calibration = evaluate(runs, grid.dataset, grid.baselines[0], recipe_hash, manifests, placebo, metric)
        with Store(outcomes[0].store_path) as db:
            db.add_calibration(calibration)
        console.print(_table(calibration))
        console.print(
            "[dim]Each split seed is a new fold manifest; each arm's comparison is its own family, as a user testing "
            "one variant sees it. Rates with Clopper-Pearson 95% intervals. Reports on this dataset, baseline, "
            "recipe and k now show this calibration.[/]"
        )


def _table(calibration) -> Table:
    table = Table(
        title=f"Calibration · {calibration.dataset} · {calibration.baseline} · {calibration.metric} · "
        f"k={calibration.k} · {len(calibration.split_seeds)} split seeds",
        box=box.HEAVY_HEAD,
    )
    for name in ("arm", "false 'holds'", "any claim (holds, worse, small loss)", "verdicts"):
        table.add_column(name, justify="left" if name in ("arm", "verdicts") else "right")
    for arm in calibration.arms.values():
        counts = {v: arm.verdicts.count(v) for v in dict.fromkeys(arm.verdicts)}
        table.add_row(arm.name, str(arm.holds), str(arm.claims), ", ".join(f"{v} {n}" for v, n in counts.items()))
    return table
