"""Drive a grid: skip what the store has, train the rest through an executor, write each record.

Only this driver writes to the store, one transaction per finished run, so an interrupted grid keeps
every finished run and redoes only the unfinished one when the same command runs again. Cost (params,
GMACs, latency) is measured once per spec before training, each spec timed interleaved with its
baseline, and attached to each of its records.

Other drivers may share the store. Each run is claimed in the store as the executor takes it
(``suite.job_queue.ClaimQueue``), the claims are renewed while the grid runs (``suite.claims``) and
released when it stops, so a run another driver stored is skipped and one it is training is not
trained twice: this grid goes on with the others and comes back to it.
"""

from __future__ import annotations

import sys
from contextlib import suppress
from dataclasses import dataclass, replace
from typing import Callable

from suite.errors import SuiteError
from suite.executors.options import ExecutorOptions
from suite.grid import Grid, GridRequest, plan
from suite.records import Job, RunRecord
from suite.spec import canonical, parse
from suite.studies import Study, grid_study


@dataclass
class GridOutcome:
    """What one ``suite run`` did: the grid, its study, how many runs it trained and how many it found stored."""

    grid: Grid
    study: Study
    trained: int  # runs trained and stored by this driver (failed ones included)
    skipped: int  # runs stored by then: before the grid started, or by another driver meanwhile
    failed: int
    store_path: str
    overtaken: int = 0  # of ``skipped``: trained here too, but another driver stored them first


def grid_study_of(request: GridRequest, grid: Grid) -> Study:
    """The grid as a study: its variants as planned are the Holm family of its verdicts."""
    recipes = {job.spec: job.recipe_hash for job in grid.jobs}
    variants = grid.claims
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
        design["controls"] = grid.control_records()
    return grid_study(design, variants, grid.dataset, grid.manifest.sha256, recipes)


def measure_costs(jobs: list[Job], grid: Grid, device: str) -> dict[str, dict]:
    """params / GMACs / batch-1 latency of each spec of ``jobs``, as built for this grid's data and recipe.

    Every spec is timed together with its plain baseline, their passes interleaved
    (``suite.paired_latency``), and its record keeps both latencies and the spread of their difference,
    so the latency a module adds is a paired difference taken under one machine load, with its noise.
    Runs headed for GPUs this driver lacks (Ray or SLURM nodes) get params and GMACs counted here and
    no latency: it would not be their device's.
    """
    import torch

    from suite.build import build_variant
    from suite.cost import measure_cost
    from suite.paired_latency import paired_latencies

    here = not device.startswith("cuda") or torch.cuda.is_available()  # this driver has the runs' device
    device = device if here else "cpu"
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
    for shape in {shape for _, shape in models.values()} if here else ():
        same = {spec: model for spec, (model, s) in models.items() if s == shape}
        for spec, timed in paired_latencies(same, {s: references[s] for s in same}, shape, device).items():
            costs[spec].update(
                latency_ms=timed.latency_ms, baseline_latency_ms=timed.reference_ms, latency_spread_ms=timed.spread_ms
            )
    return {spec: costs[spec] for spec in wanted}


def run_grid(
    request: GridRequest,
    store_path: str | None = None,
    executor: str | ExecutorOptions = "local",
    on_plan: Callable[[Grid, int], None] | None = None,
    on_progress: Callable[[Job, dict], None] | None = None,
    on_record: Callable[[RunRecord], None] | None = None,
    retry_failed: bool = False,
    on_reused: Callable[[str], None] | None = None,
    on_waiting: Callable[[int], None] | None = None,
    lease_s: float | None = None,
) -> GridOutcome:
    """Plan ``request``, train what the store lacks, write each record as it finishes (``train_grid``)."""
    grid = plan(request)
    study = grid_study_of(request, grid)
    return train_grid(
        grid, study, request.device, store_path, executor, on_plan, on_progress, on_record, retry_failed,
        on_reused, on_waiting, lease_s,
    )  # fmt: skip


def train_grid(
    grid: Grid,
    study: Study,
    device: str,
    store_path: str | None = None,
    executor: str | ExecutorOptions = "local",
    on_plan: Callable[[Grid, int], None] | None = None,
    on_progress: Callable[[Job, dict], None] | None = None,
    on_record: Callable[[RunRecord], None] | None = None,
    retry_failed: bool = False,
    on_reused: Callable[[str], None] | None = None,
    on_waiting: Callable[[int], None] | None = None,
    lease_s: float | None = None,
) -> GridOutcome:
    """Record ``study`` (the grid's, or a sweep, ablation or small-data study the grid is part of), then
    train the jobs of the planned ``grid`` that the store lacks, writing each record as it finishes.

    ``retry_failed``: also train the runs stored as failed (same key), replacing their rows.
    ``on_reused(key)``: a run another driver stored while this grid ran; ``on_waiting(n)``: the number
    of runs another driver is training, put aside until it stores them or its lease expires;
    ``lease_s``: the claims' lease (default ``$SUITE_CLAIM_LEASE_S`` or 180 s).
    """
    from suite.claims import Heartbeat, current_owner, failed_stamps, lease_seconds, release
    from suite.executors import make_executor
    from suite.job_queue import ClaimQueue
    from suite.plugins import provenance as plugin_provenance
    from suite.store import Store, provenance

    lease = lease_seconds(lease_s)
    runner = make_executor(executor, device)
    with Store(store_path) as store:
        study = store.add_study(study)
        retry = failed_stamps(store) if retry_failed else {}
        stored = store.keys()
        todo = [job for job in grid.jobs if job.key not in stored or job.key in retry]
        if on_plan:
            on_plan(grid, len(todo))
        owner = current_owner()
        context = {**provenance(sys.argv), "claim_owner": str(owner)}
        costs = measure_costs(todo, grid, device) if todo else {}
        reused = (lambda job: on_reused(job.key)) if on_reused else None
        queue = ClaimQueue(store, todo, owner, lease, retry, reused, on_waiting)
        trained = failed = overtaken = 0
        with Heartbeat(store.path, owner, lease):
            try:
                for record in runner.map(queue, grid.data, on_progress):
                    origins = plugin_provenance(canonical(record.spec))
                    record = replace(
                        record, **costs[record.spec], provenance={**context, **origins, **record.provenance}
                    )
                    if not store.write(record, replace=record.key in retry):
                        overtaken += 1  # our lease had expired and another driver stored it first
                        if on_reused:
                            on_reused(record.key)
                        continue
                    trained += 1
                    failed += record.status != "done"
                    if on_record:
                        on_record(record)
            finally:
                with suppress(SuiteError):  # left behind, they expire with the lease (at once on this host)
                    release(store, owner)
        skipped = len(grid.jobs) - len(todo) + queue.reused + overtaken
        return GridOutcome(grid, study, trained, skipped, failed, str(store.path), overtaken)
