"""Stores that hold a study of each kind, planned for real and filled with SYNTHETIC records (no training).

Each builder plans the study as ``suite sweep`` / ``suite ablate`` / ``suite run --train-fraction`` do
(``suite.studies.plan.plan_study`` on the shapes set: real manifest, recipes, job keys and study record),
then writes one done record per planned job with a metric value the test chooses, and records the study.
The tests read every expected verdict from ``suite.verdict.compare`` or recompute the effects by hand:
no label is written down here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from suite.datasets.subsets import subset_size
from suite.grid import GridRequest
from suite.records import RunRecord
from suite.spec import parse
from suite.store import Store
from suite.studies.ablation import factors_of, subset_specs
from suite.studies.plan import PlannedStudy, StudyRequest, plan_study
from suite.studies.sweep import expand_sweep

TINY = {"epochs": 1, "image_size": 32, "model.width": 4, "batch_size": 16}
K = 5
SWEEP = ("unet+se", ["enc1", "enc3", "dec1"], ["after", "residual"])  # spec, points, modes
ABLATION = "unet+se@enc1+cbam@dec1"
FRACTIONS = (0.25, 1.0)
PROVENANCE = {"versions": {"suite": "synthetic"}, "git_commit": None, "command": "tests/_study_fixtures.py"}

Value = Callable[[str, int, int, float], float]  # (spec, fold, seed, train fraction) -> Dice


def grid_request(variants: list[str], seeds: int = 1) -> GridRequest:
    return GridRequest(variants=variants, dataset="shapes", folds=K, seeds=seeds, overrides=dict(TINY))


def sweep_request(groups: bool = False) -> StudyRequest:
    spec, points, modes = SWEEP
    design = expand_sweep(spec, points, modes, groups=groups)
    return StudyRequest("sweep", grid_request(design.variants), (1.0,), {"base": spec, "sweep": design.to_dict()})


def ablation_request(spec: str = ABLATION, seeds: int = 1) -> StudyRequest:
    baseline, factors = factors_of(spec)
    subsets = subset_specs(baseline, factors)
    design = {"base": spec, "ablation": {"baseline": baseline, "factors": [f.label for f in factors], "subsets": subsets}}
    return StudyRequest("ablation", grid_request(subsets[1:], seeds), (1.0,), design)


def fractions_request(variants: tuple[str, ...] = ("unet+se",)) -> StudyRequest:
    return StudyRequest("fractions", grid_request(list(variants)), FRACTIONS)


def write_study(path: Path, request: StudyRequest, value: Value, wall_s: float = 1.0) -> PlannedStudy:
    """Plan ``request``, write a done record for every job (metric from ``value``), record the study."""
    planned = plan_study(request)
    with Store(path) as store:
        study = store.add_study(planned.study)
        for fraction, grid in planned.grids:
            for job in grid.jobs:
                if store.has(job.key):
                    continue
                dice = float(value(job.spec, job.fold, job.seed, fraction))
                n_train = subset_size(grid.manifest.n_train(job.fold), fraction)
                store.write(
                    RunRecord(
                        key=job.key, spec=job.spec, baseline=parse(job.spec).baseline, dataset=job.dataset,
                        manifest_hash=job.manifest_hash, k=job.k, fold=job.fold, seeds=job.seeds, recipe=job.recipe,
                        recipe_hash=job.recipe_hash, status="done", metrics={"dice": dice, "iou": dice / (2 - dice)},
                        n_train=n_train, n_val=grid.manifest.n_val(job.fold), params=1_000 + 10 * len(job.spec),
                        params_added=0 if job.spec == grid.baselines[0] else 10 * len(job.spec), gmacs=0.01,
                        wall_s=wall_s, device="cpu", provenance=PROVENANCE,
                    )
                )  # fmt: skip
    planned.study = study
    return planned


def noisy(effects: dict[str, float], noise: float = 0.002, seed: int = 0, fractions: dict | None = None) -> Value:
    """Dice = a fold level shared by every spec + the spec's effect (times its fraction's factor) + cell noise."""
    rng = np.random.default_rng(seed)
    folds = 0.7 + rng.normal(0, 0.03, size=K)
    cells: dict[tuple, float] = {}

    def value(spec: str, fold: int, repeat: int, fraction: float) -> float:
        scale = (fractions or {}).get(fraction, 1.0)
        key_ = (spec, fold, repeat, fraction)
        if key_ not in cells:
            cells[key_] = float(rng.normal(0, noise))
        return folds[fold] + scale * effects.get(spec, 0.0) + cells[key_]

    return value
