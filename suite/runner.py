"""Drive a grid: skip what the store has, train the rest through an executor, write each record.

Only this driver writes to the store, one transaction per finished run, so an interrupted grid keeps
every finished run and redoes only the unfinished one when the same command runs again. Cost (params,
GMACs, latency) is measured once per spec before training, each spec timed interleaved with its
baseline, and attached to each of its records.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from typing import Callable

from suite.grid import Grid, GridRequest, plan
from suite.records import Job, RunRecord
from suite.spec import canonical, parse
from suite.studies import Study, grid_study


@dataclass
class GridOutcome:
    """What one ``suite run`` did: the grid, its study, how many runs it trained and how many it found stored."""

    grid: Grid
    study: Study
    trained: int
    skipped: int
    failed: int
    store_path: str


def grid_study_of(request: GridRequest, grid: Grid) -> Study:
    """The grid as a study: its variants as planned are the Holm family of its verdicts."""
    recipes = {job.spec: job.recipe_hash for job in grid.jobs}
    asked = {str(canonical(text)) for text in request.variants}
    variants = [spec for spec in grid.specs if spec not in grid.baselines and spec in asked]
    design = {
        "variants": variants,
        "dataset": grid.dataset,
        "folds": request.folds,
        "seeds": request.seeds,
        "split_seed": request.split_seed,
        "profile": request.profile,
        "overrides": request.overrides,
    }
    if grid.controls:
        design["controls"] = [
            {**match.to_dict(), "dataset": grid.dataset, "recipe_hash": recipes[match.variant]} for match in grid.controls
        ]
    return grid_study(design, variants, grid.dataset, grid.manifest.sha256, recipes)


def measure_costs(jobs: list[Job], grid: Grid, device: str) -> dict[str, dict]:
    """params / GMACs / batch-1 latency of each spec of ``jobs``, as built for this grid's data and recipe.

    Every spec is timed together with its plain baseline, their passes interleaved
    (``suite.paired_latency``), and its record keeps both latencies and the spread of their difference,
    so the latency a module adds is a paired difference taken under one machine load, with its noise.
    """
    from suite.build import build_variant
    from suite.cost import measure_cost
    from suite.paired_latency import paired_latencies

    data, recipes = grid.data, {job.spec: job.recipe for job in jobs}
    wanted = list(recipes)
    for spec in wanted:
        recipes.setdefault(parse(spec).baseline, recipes[spec])  # baseline and variant share the recipe
    references = {spec: parse(spec).baseline for spec in recipes}
    classes = len(data.classes) if grid.task == "cls" else 1
    costs, models = {}, {}
    for spec, recipe in recipes.items():
        size = recipe["image_size"]
        shape = (1, data.in_channels, size, size)
        built = build_variant(spec, grid.task, classes, data.in_channels, size, **recipe.get("model", {}))
        cost = measure_cost(built, shape, device=device, latency=False)
        costs[spec] = {"gmacs": cost.gmacs, "params": cost.params, "params_added": cost.params_added}
        models[spec] = (built.model, shape)
    for shape in {shape for _, shape in models.values()}:
        same = {spec: model for spec, (model, s) in models.items() if s == shape}
        for spec, timed in paired_latencies(same, {s: references[s] for s in same}, shape, device).items():
            costs[spec].update(
                latency_ms=timed.latency_ms, baseline_latency_ms=timed.reference_ms, latency_spread_ms=timed.spread_ms
            )
    return {spec: costs[spec] for spec in wanted}


def run_grid(
    request: GridRequest,
    store_path: str | None = None,
    executor: str = "local",
    on_plan: Callable[[Grid, int], None] | None = None,
    on_progress: Callable[[Job, dict], None] | None = None,
    on_record: Callable[[RunRecord], None] | None = None,
    retry_failed: bool = False,
) -> GridOutcome:
    """Plan ``request``, train what the store lacks, write each record as it finishes.

    ``retry_failed``: also train the runs stored as failed (same key), replacing their rows.
    """
    grid = plan(request)
    study = grid_study_of(request, grid)
    return train_grid(grid, study, request.device, store_path, executor, on_plan, on_progress, on_record, retry_failed)


def train_grid(
    grid: Grid,
    study: Study,
    device: str,
    store_path: str | None = None,
    executor: str = "local",
    on_plan: Callable[[Grid, int], None] | None = None,
    on_progress: Callable[[Job, dict], None] | None = None,
    on_record: Callable[[RunRecord], None] | None = None,
    retry_failed: bool = False,
) -> GridOutcome:
    """Record ``study`` (the grid's, or a sweep, ablation or small-data study the grid is part of), then
    train the jobs of the planned ``grid`` that the store lacks, writing each record as it finishes."""
    from suite.executors import EXECUTORS
    from suite.plugins import provenance as plugin_provenance
    from suite.store import Store, provenance

    with Store(store_path) as store:
        study = store.add_study(study)
        stored = store.keys(status="done" if retry_failed else None)
        todo = [job for job in grid.jobs if job.key not in stored]
        if on_plan:
            on_plan(grid, len(todo))
        context = provenance(sys.argv)
        costs = measure_costs(todo, grid, device) if todo else {}
        trained = failed = 0
        for record in EXECUTORS[executor]().map(todo, grid.data, on_progress):
            origins = plugin_provenance(canonical(record.spec))
            record = replace(record, **costs[record.spec], provenance={**context, **origins, **record.provenance})
            store.write(record, replace=retry_failed)
            trained += 1
            failed += record.status != "done"
            if on_record:
                on_record(record)
        return GridOutcome(grid, study, trained, len(grid.jobs) - len(todo), failed, str(store.path))
