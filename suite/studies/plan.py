"""Plan a study: its grids (one per train fraction), its record (design and members) and its size.

Every study is ordinary grids of ordinary runs: a sweep or an ablation is one grid of its expanded
variants, and ``--train-fraction 0.1,0.25,1`` makes one grid per fraction (the fraction is a recipe key,
so it is part of each run's key, and fraction 1 keeps the keys of full-data runs). The study's members
are every (variant, dataset, split, recipe) it tests, at every fraction: the Holm family of its verdicts.

``describe_size`` says what the study will cost before anything trains: specs x folds x seeds x
fractions, how many of those runs the store already has, and a time estimate from the stored wall
times of the same baseline and recipe (or the same recipe at another fraction, scaled by the training
share), where there are any.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from suite.errors import SuiteError
from suite.grid import Grid, GridRequest, plan, resolve
from suite.spec import parse
from suite.studies.record import Study, make_study

STUDY_KINDS = ("grid", "sweep", "ablation", "fractions")
FRACTION_KEY = "train_fraction"
MIN_SUBSET = 2  # training images a fold keeps at the smallest fraction (batch norm needs two)


@dataclass
class StudyRequest:
    """A study as asked: its kind, the grid of its expanded variants, its train fractions, its design."""

    kind: str  # one of STUDY_KINDS
    grid: GridRequest  # the expanded variants and every run option (at the full training folds)
    fractions: tuple[float, ...] = (1.0,)
    design: dict = field(default_factory=dict)  # what the kind adds: the sweep's cells, the ablation's factors


@dataclass
class PlannedStudy:
    request: StudyRequest
    grids: list[tuple[float, Grid]]  # (train fraction, its grid), smallest fraction first
    study: Study

    @property
    def jobs(self) -> list:
        return [job for _, grid in self.grids for job in grid.jobs]


def parse_fractions(text: str | None) -> tuple[float, ...]:
    """``"0.1,0.25,0.5,1"`` -> (0.1, 0.25, 0.5, 1.0): sorted, each once, each in (0, 1]."""
    if text is None:
        return (1.0,)
    values = []
    for part in text.split(","):
        try:
            value = float(part)
        except ValueError:
            value = float("nan")
        if not 0 < value <= 1:
            raise SuiteError(
                f"--train-fraction {text!r}: {part.strip()!r} is not a share of the training folds in (0, 1]; "
                "e.g. --train-fraction 0.1,0.25,0.5,1"
            )
        values.append(value)
    return tuple(sorted(set(values)))


def fraction_requests(request: StudyRequest) -> list[tuple[float, GridRequest]]:
    """One grid request per fraction: the fraction set as the recipe key, left out at 1."""
    if FRACTION_KEY in request.grid.overrides:
        raise SuiteError(f"pass --train-fraction, not --set {FRACTION_KEY}=...; it makes one grid per fraction")
    found = []
    for fraction in request.fractions:
        overrides = dict(request.grid.overrides) | ({FRACTION_KEY: fraction} if fraction < 1 else {})
        found.append((fraction, replace(request.grid, overrides=overrides)))
    return found


def check_study(request: StudyRequest) -> None:
    """Refuse bad input before any data is read or the store is opened (``suite.grid.resolve``)."""
    if request.kind not in STUDY_KINDS:
        raise SuiteError(f"unknown study kind {request.kind!r}; kinds: {', '.join(STUDY_KINDS)}")
    for _, grid_request in fraction_requests(request):
        resolve(grid_request)


def _check_subsets(fraction: float, grid: Grid) -> None:
    from suite.datasets.subsets import subset_size

    smallest = min(grid.manifest.n_train(fold) for fold in range(grid.manifest.k))
    if subset_size(smallest, fraction) < MIN_SUBSET:
        raise SuiteError(
            f"--train-fraction {fraction:g} leaves {subset_size(smallest, fraction)} training image(s) in a fold of "
            f"{grid.dataset} ({smallest} at fraction 1); use at least {MIN_SUBSET / smallest:.3g}"
        )


def _design(request: StudyRequest, grids: list[tuple[float, Grid]]) -> dict:
    base = request.grid
    first = grids[-1][1]
    design = {
        "kind": request.kind,
        "variants": first.claims,
        "dataset": first.dataset,
        "folds": base.folds,
        "seeds": base.seeds,
        "split_seed": base.split_seed,
        "profile": base.profile,
        "overrides": base.overrides,
        "fractions": list(request.fractions),
        "recipes": {f"{fraction:g}": {b: _recipe_hash(grid, b) for b in grid.baselines} for fraction, grid in grids},
        "recipe": {b: next(j.recipe for j in first.jobs if j.spec == b) for b in first.baselines},
        **request.design,
    }
    if controls := [record for _, grid in grids for record in grid.control_records()]:
        design["controls"] = controls  # a study with controls is another study than the same one without
    return design


def _recipe_hash(grid: Grid, spec: str) -> str:
    return next(job.recipe_hash for job in grid.jobs if job.spec == spec)


def plan_study(request: StudyRequest) -> PlannedStudy:
    """Plan every grid of the study (reading the data and its folds) and the study record."""
    from suite.runner import grid_study_of

    check_study(request)
    grids = [(fraction, plan(grid_request)) for fraction, grid_request in fraction_requests(request)]
    for fraction, grid in grids:
        _check_subsets(fraction, grid)
    if request.kind == "grid":
        return PlannedStudy(request, grids, grid_study_of(request.grid, grids[0][1]))
    members = [
        (spec, grid.dataset, grid.manifest.sha256, _recipe_hash(grid, spec))
        for _, grid in grids
        for spec in grid.claims
    ]
    return PlannedStudy(request, grids, make_study(request.kind, _design(request, grids), members))


def _reference_seconds(job, runs: pd.DataFrame) -> tuple[float | None, str]:
    """The wall time a job will likely take, from stored runs, and where it came from."""
    if runs.empty:
        return None, ""
    baseline = parse(job.spec).baseline
    same = runs[(runs["baseline"] == baseline) & (runs["recipe_hash"] == job.recipe_hash)]
    spec_rows = same[same["spec"] == job.spec]
    if not spec_rows.empty:
        return float(spec_rows["wall_s"].median()), "same spec and recipe"
    if not same.empty:
        return float(same["wall_s"].median()), "same baseline and recipe"
    fraction = job.recipe.get(FRACTION_KEY, 1.0)
    plain = {k: v for k, v in job.recipe.items() if k != FRACTION_KEY}
    others = runs[runs["baseline"] == baseline]
    others = others[others["recipe"].map(lambda r: {k: v for k, v in r.items() if k != FRACTION_KEY} == plain)]
    if others.empty:
        return None, ""
    shares = others["recipe"].map(lambda r: r.get(FRACTION_KEY, 1.0)).to_numpy(dtype=float)
    return float(np.median(others["wall_s"].to_numpy() * fraction / shares)), "same recipe at another fraction, scaled"


def describe_size(planned: PlannedStudy, store_path: str | None) -> tuple[str, int]:
    """One line: the study's size, what the store has, and the time estimate; and the number of runs to train."""
    from suite.store import read_runs

    stored = read_runs(store_path, status=None)
    keys = set(stored["key"])
    done = stored[stored["status"] == "done"]
    jobs = planned.jobs
    todo = [job for job in jobs if job.key not in keys]
    first = planned.grids[-1][1]
    fractions = len(planned.grids)
    size = (
        f"{planned.study.kind} {planned.study.name} on {first.dataset}: {len(first.specs)} specs x {first.manifest.k} folds x "
        f"{planned.request.grid.seeds} seed(s) x {fractions} fraction(s) = {len(jobs)} runs, "
        f"{len(jobs) - len(todo)} of them in the store"
    )
    if not todo:
        return size, 0
    estimates = [_reference_seconds(job, done) for job in todo]
    known = [seconds for seconds, _ in estimates if seconds is not None]
    if not known:
        return size + "; no time estimate (the store has no finished run of these baselines and recipes)", len(todo)
    total = sum(known) * len(todo) / len(known)
    sources = sorted({source for seconds, source in estimates if seconds is not None})
    partial = "" if len(known) == len(todo) else f", {len(known)} of {len(todo)} runs with a stored reference"
    return size + f"; about {_duration(total)} at the stored wall times ({'; '.join(sources)}{partial})", len(todo)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
