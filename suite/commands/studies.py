"""``suite sweep`` (where does a module help?) and ``suite ablate`` (which part of a multi-module variant
carries the gain?): each expands into ordinary runs, trains what the store lacks as ``suite run`` does
(every ``suite run`` option applies, ``--train-fraction`` and ``--dry-run`` too), records the study and
prints its report: the verdicts in the study's family, then the position table or the effects."""

from __future__ import annotations

from typing import Optional

import typer

from suite.commands import _grid_options as opt
from suite.commands.run import run_studies


def register(app: typer.Typer) -> None:
    @app.command()
    def sweep(
        spec: str = typer.Argument(..., help="A baseline and the module to move, e.g. unet+se (or unet with --modules)."),
        points: Optional[str] = typer.Option(
            None, help="Points, groups or globs, comma-separated, or all (default: the spec's points, else all)."
        ),
        modes: Optional[str] = typer.Option(None, help="Modes to try, e.g. after,residual (default: each module's own)."),
        modules: Optional[str] = typer.Option(None, help="More modules to sweep, e.g. se,eca,cbam (one column each)."),
        groups: bool = typer.Option(False, "--groups", help="Also each group of points (@encoder, @decoder, @skip, ...)."),
        dataset: Optional[str] = opt.DatasetOption,
        data_root: Optional[str] = opt.DataRootOption,
        folds: Optional[int] = opt.FoldsOption,
        seeds: Optional[int] = opt.SeedsOption,
        split_seed: Optional[int] = opt.SplitSeedOption,
        profile: Optional[str] = opt.ProfileOption,
        device: str = opt.DeviceOption,
        store: Optional[str] = opt.StoreOption,
        epochs: Optional[int] = opt.EpochsOption,
        batch_size: Optional[int] = opt.BatchSizeOption,
        lr: Optional[float] = opt.LrOption,
        image_size: Optional[int] = opt.ImageSizeOption,
        set_: list[str] = opt.SetOption,
        executor: str = opt.ExecutorOption,
        jobs: int = opt.JobsOption,
        cpus_per_run: Optional[int] = opt.CpusPerRunOption,
        gpus_per_run: Optional[float] = opt.GpusPerRunOption,
        address: Optional[str] = opt.AddressOption,
        slurm_config: Optional[str] = opt.SlurmConfigOption,
        slurm_partition: Optional[str] = opt.SlurmPartitionOption,
        slurm_time: Optional[int] = opt.SlurmTimeOption,
        retry_failed: bool = opt.RetryFailedOption,
        train_fraction: Optional[str] = opt.TrainFractionOption,
        dry_run: bool = opt.DryRunOption,
    ) -> None:
        """Train the module at each single point (and mode, module, group): a position table with a verdict per cell."""
        from dataclasses import replace

        from suite.executors import job_device
        from suite.grid import GridRequest
        from suite.studies.plan import StudyRequest, parse_fractions
        from suite.studies.sweep import expand_sweep, fit_to_request, split_list

        runner = opt.executor_options(
            executor, jobs, cpus_per_run, gpus_per_run, address, slurm_config, slurm_partition, slurm_time
        )
        fractions = parse_fractions(train_fraction)
        design = expand_sweep(spec, split_list(points), split_list(modes), split_list(modules), groups)
        request = GridRequest(
            variants=design.variants,
            **opt.given(dataset=dataset, data_root=data_root, folds=folds, seeds=seeds, split_seed=split_seed, profile=profile),
            overrides=opt.recipe_overrides(epochs, batch_size, lr, image_size, set_),
            device=job_device(device, runner),
        )
        design = fit_to_request(design, request)
        study = StudyRequest(
            "sweep", replace(request, variants=design.variants), fractions, {"base": spec, "sweep": design.to_dict()}
        )
        run_studies([study], store, runner, retry_failed, dry_run)

    @app.command()
    def ablate(
        spec: str = typer.Argument(..., help="A variant with 2 to 4 insertions, e.g. unet+se@encoder+cbam@decoder."),
        dataset: Optional[str] = opt.DatasetOption,
        data_root: Optional[str] = opt.DataRootOption,
        folds: Optional[int] = opt.FoldsOption,
        seeds: Optional[int] = opt.SeedsOption,
        split_seed: Optional[int] = opt.SplitSeedOption,
        profile: Optional[str] = opt.ProfileOption,
        device: str = opt.DeviceOption,
        store: Optional[str] = opt.StoreOption,
        epochs: Optional[int] = opt.EpochsOption,
        batch_size: Optional[int] = opt.BatchSizeOption,
        lr: Optional[float] = opt.LrOption,
        image_size: Optional[int] = opt.ImageSizeOption,
        set_: list[str] = opt.SetOption,
        executor: str = opt.ExecutorOption,
        jobs: int = opt.JobsOption,
        cpus_per_run: Optional[int] = opt.CpusPerRunOption,
        gpus_per_run: Optional[float] = opt.GpusPerRunOption,
        address: Optional[str] = opt.AddressOption,
        slurm_config: Optional[str] = opt.SlurmConfigOption,
        slurm_partition: Optional[str] = opt.SlurmPartitionOption,
        slurm_time: Optional[int] = opt.SlurmTimeOption,
        retry_failed: bool = opt.RetryFailedOption,
        train_fraction: Optional[str] = opt.TrainFractionOption,
        dry_run: bool = opt.DryRunOption,
    ) -> None:
        """Train every subset of the spec's insertions: main effects, interactions and leave-one-out drops."""
        from suite.executors import job_device
        from suite.grid import GridRequest
        from suite.spec import parse
        from suite.studies.ablation import factors_of, subset_specs
        from suite.studies.plan import StudyRequest, parse_fractions

        runner = opt.executor_options(
            executor, jobs, cpus_per_run, gpus_per_run, address, slurm_config, slurm_partition, slurm_time
        )
        fractions = parse_fractions(train_fraction)
        baseline, factors = factors_of(spec)
        subsets = subset_specs(baseline, factors)
        request = GridRequest(
            variants=subsets if not parse(subsets[0]).is_baseline else subsets[1:],  # unet(width=18) is a variant
            **opt.given(dataset=dataset, data_root=data_root, folds=folds, seeds=seeds, split_seed=split_seed, profile=profile),
            overrides=opt.recipe_overrides(epochs, batch_size, lr, image_size, set_),
            device=job_device(device, runner),
        )
        design = {"base": spec, "ablation": {"baseline": baseline, "factors": [f.label for f in factors], "subsets": subsets}}
        run_studies([StudyRequest("ablation", request, fractions, design)], store, runner, retry_failed, dry_run)
