"""``suite sweep`` (where does a module help?) and ``suite ablate`` (which part of a multi-module variant
carries the gain?): each expands into ordinary runs, trains what the store lacks as ``suite run`` does
(every ``suite run`` option applies, ``--train-fraction`` and ``--dry-run`` too), records the study and
prints its report: the verdicts in the study's family, then the position table or the effects."""

from __future__ import annotations

from typing import Optional

import typer

from suite.commands import _grid_options as opt
from suite.commands.run import run_studies
from suite.executors.options import ExecutorOptions


def register(app: typer.Typer) -> None:
    @app.command()
    @opt.with_executor_options
    @opt.with_training_options
    def sweep(
        spec: str = typer.Argument(..., help="A baseline and the module to move, e.g. unet+se (or unet with --modules)."),
        points: Optional[str] = typer.Option(
            None, help="Points, groups or globs, comma-separated, or all (default: the spec's points, else all)."
        ),
        modes: Optional[str] = typer.Option(None, help="Modes to try, e.g. after,residual (default: each module's own)."),
        modules: Optional[str] = typer.Option(None, help="More modules to sweep, e.g. se,eca,cbam (one column each)."),
        groups: bool = typer.Option(False, "--groups", help="Also each group of points (@encoder, @decoder, @skip, ...)."),
        *,
        training: opt.TrainingOptions,
        runner: ExecutorOptions,
    ) -> None:
        """Train the module at each single point (and mode, module, group): a position table with a verdict per cell."""
        from dataclasses import replace

        from suite.studies.plan import StudyRequest
        from suite.studies.sweep import expand_sweep, fit_to_request, split_list

        design = expand_sweep(spec, split_list(points), split_list(modes), split_list(modules), groups)
        request = _request(design.variants, training, runner)
        design = fit_to_request(design, request)
        request = replace(request, variants=design.variants)
        study = StudyRequest("sweep", request, training.fractions(), {"base": spec, "sweep": design.to_dict()})
        run_studies([study], training.store, runner, training.retry_failed, training.dry_run)

    @app.command()
    @opt.with_executor_options
    @opt.with_training_options
    def ablate(
        spec: str = typer.Argument(..., help="A variant with 2 to 4 insertions, e.g. unet+se@encoder+cbam@decoder."),
        *,
        training: opt.TrainingOptions,
        runner: ExecutorOptions,
    ) -> None:
        """Train every subset of the spec's insertions: main effects, interactions and leave-one-out drops."""
        from suite.spec import parse
        from suite.studies.ablation import factors_of, subset_specs
        from suite.studies.plan import StudyRequest

        baseline, factors = factors_of(spec)
        subsets = subset_specs(baseline, factors)
        variants = subsets if not parse(subsets[0]).is_baseline else subsets[1:]  # unet(width=18) is a variant
        request = _request(variants, training, runner)
        design = {"base": spec, "ablation": {"baseline": baseline, "factors": [f.label for f in factors], "subsets": subsets}}
        study = StudyRequest("ablation", request, training.fractions(), design)
        run_studies([study], training.store, runner, training.retry_failed, training.dry_run)


def _request(variants: list[str], training: opt.TrainingOptions, runner: ExecutorOptions):
    """The grid of ``variants`` with the options given on the command line."""
    from suite.grid import GridRequest

    return GridRequest(
        variants=variants, **training.grid_options(), overrides=training.overrides(), device=training.job_device(runner)
    )
