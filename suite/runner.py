"""Drive a grid: skip what the store has, train the rest through an executor, write each record.

Only this driver writes to the store, one transaction per finished run, so an interrupted grid keeps
every finished run and redoes only the unfinished one when the same command runs again. Cost (params,
GMACs, latency) is measured once per spec and attached to each of its records.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from typing import Callable

from suite.grid import Grid, GridRequest, plan
from suite.records import Job, RunRecord


@dataclass
class GridOutcome:
    """What one ``suite run`` did: the grid, how many runs it trained and how many it found stored."""

    grid: Grid
    trained: int
    skipped: int
    failed: int
    store_path: str


def measure_cost(spec: str, grid: Grid, recipe: dict, device: str) -> dict:
    """params / GMACs / batch-1 latency of ``spec`` as built for this grid's data and recipe."""
    from suite.build import build_variant
    from suite.profile import profile_variant

    data = grid.data
    size = recipe["image_size"]
    built = build_variant(
        spec,
        grid.task,
        len(data.classes) if grid.task == "cls" else 1,
        data.in_channels,
        size,
        **recipe.get("model", {}),
    )
    cost = profile_variant(built, (1, data.in_channels, size, size), device=device, throughput_batch=0)
    return {
        "gmacs": cost.gmacs,
        "latency_ms": cost.latency.median_ms if cost.latency else None,
        "params": cost.params,
        "params_added": cost.params_added,
    }


def run_grid(
    request: GridRequest,
    store_path: str | None = None,
    executor: str = "local",
    on_plan: Callable[[Grid, int], None] | None = None,
    on_progress: Callable[[Job, dict], None] | None = None,
    on_record: Callable[[RunRecord], None] | None = None,
) -> GridOutcome:
    from suite.executors import EXECUTORS
    from suite.store import Store, provenance

    grid = plan(request)
    with Store(store_path) as store:
        stored = store.keys()
        todo = [job for job in grid.jobs if job.key not in stored]
        if on_plan:
            on_plan(grid, len(todo))
        context = provenance(sys.argv)
        costs: dict[str, dict] = {}
        trained = failed = 0
        for record in EXECUTORS[executor]().map(todo, grid.data, on_progress):
            if record.spec not in costs:
                costs[record.spec] = measure_cost(record.spec, grid, record.recipe, request.device)
            record = replace(record, **costs[record.spec], provenance={**context, **record.provenance})
            store.write(record)
            trained += 1
            failed += record.status != "done"
            if on_record:
                on_record(record)
        return GridOutcome(grid, trained, len(grid.jobs) - len(todo), failed, str(store.path))
