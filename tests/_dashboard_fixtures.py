"""Results stores for the dashboard tests: a synthetic grid written record by record, and a real tiny grid.

``real_tiny_grid_store`` trains a real (tiny) grid the way ``suite run`` does, through
``suite.runner.run_grid``: U-Net with and without SE on the synthetic shapes set, 3 folds, 1 epoch.
It takes tens of seconds on 2 CPU cores, so the tests that use it are marked slow.

``synthetic_grid_store`` writes SYNTHETIC run records via ``Store.write`` (no training happened): two datasets, one
segmentation (Dice/IoU) and one classification (accuracy/macro F1), a 5-fold x 2-seed grid per
variant, with per-fold values drawn so that each verdict label comes out: a consistent gain (holds, clearly above delta or
not), a consistent loss (worse), a consistent loss below delta (small loss), a negligible difference (no
practical gain) and a noisy one (inconclusive).
The tests never hard-code those labels: they read them from ``suite.verdict.compare`` on the same
store, so either builder serves the same tests.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from suite.recipe import Recipe
from suite.records import RunRecord, Seeds, stable_hash
from suite.spec import key, parse
from suite.store import Store

K_FOLDS = 5
SEEDS = 2
MANIFEST = {"shapes": "synthetic-manifest-shapes", "digits": "synthetic-manifest-digits"}
PROVENANCE = {
    "versions": {"suite": "synthetic"},
    "git_commit": None,
    "device_name": "synthetic fixture, no training",
    "command": "tests/_dashboard_fixtures.py synthetic_grid_store",
    "host": "fixture",
}

# dataset -> metric, baseline spec, baseline level, its cost, then variant spec -> (gain, noise sd);
# specs are canonicalized when written.
GRIDS = {
    "shapes": {
        "metric": "dice",
        "baseline": "unet",
        "level": 0.80,
        "cost": (1_900_000, 1.2, 3.0),  # params, GMACs, latency ms
        "variants": {
            "unet+se": (0.050, 0.004),  # holds (>= delta)
            "unet+scse": (0.012, 0.0015),  # holds, the 95% CI reaching below delta
            "unet+cbam": (-0.050, 0.004),  # worse
            "unet+gc": (-0.004, 0.0005),  # small loss
            "unet+eca": (0.0005, 0.0005),  # no practical gain
            "unet+coord@enc1,enc2": (0.010, 0.040),  # inconclusive
        },
    },
    "digits": {
        "metric": "accuracy",
        "baseline": "resnet18",
        "level": 90.0,
        "cost": (11_200_000, 0.56, 2.0),
        "variants": {"resnet18+se": (2.0, 0.2)},  # holds
    },
}
SECOND_METRIC = {"dice": ("iou", lambda dice: dice / (2 - dice)), "accuracy": ("macro_f1", lambda acc: acc - 1.5)}


def _record(dataset: str, spec: str, fold: int, seed: int, value: float, added: int, rng: np.random.Generator) -> RunRecord:
    grid = GRIDS[dataset]
    metric = grid["metric"]
    second, convert = SECOND_METRIC[metric]
    params, gmacs, latency = grid["cost"]
    recipe = Recipe(epochs=3, image_size=32, loss="dice_bce" if metric == "dice" else "ce")
    epochs = [1, 2, 3]
    val_curve = [value * f for f in (0.8, 0.93, 1.0)]
    seeds = Seeds.from_repeat(0, seed)
    spec = key(spec)  # canonical, as ``suite run`` stores it: unet+se -> unet+se@dec1,dec2,dec3,dec4
    return RunRecord(
        key=stable_hash({"spec": spec, "dataset": dataset, "fold": fold, "seed": seed}),
        spec=spec,
        baseline=parse(spec).baseline,
        dataset=dataset,
        manifest_hash=MANIFEST[dataset],
        k=K_FOLDS,
        fold=fold,
        seeds=seeds,
        recipe=recipe.to_dict(),
        recipe_hash=recipe.hash,
        status="done",
        metrics={metric: value, second: convert(value)},
        curves={
            "epoch": epochs,
            "train_loss": [round(1.0 / e + rng.uniform(0, 0.02), 4) for e in epochs],
            f"val_{metric}": val_curve,
            f"val_{second}": [convert(v) for v in val_curve],
        },
        n_train=48,
        n_val=12,
        params=params + added,
        params_added=added,
        gmacs=gmacs * (1 + added / params),
        latency_ms=latency * (1 + 3 * added / params),
        wall_s=1.0,
        device="cpu",
        provenance=PROVENANCE,
        started_at="2024-01-01T00:00:00+00:00",
        finished_at="2024-01-01T00:00:01+00:00",
    )


def synthetic_grid_store(path: Path) -> Path:
    """Write the synthetic grid (baselines and variants, every fold and seed) to a new store at ``path``."""
    rng = np.random.default_rng(0)
    with Store(path) as store:
        for dataset, grid in GRIDS.items():
            base = grid["level"] + rng.normal(0, grid["level"] * 0.02, size=(K_FOLDS, SEEDS))
            for fold in range(K_FOLDS):
                for seed in range(SEEDS):
                    store.write(_record(dataset, grid["baseline"], fold, seed, float(base[fold, seed]), 0, rng))
            for number, (spec, (gain, noise)) in enumerate(grid["variants"].items(), start=1):
                diffs = gain + rng.normal(0, noise, size=(K_FOLDS, 1)) + rng.normal(0, noise / 10, size=(K_FOLDS, SEEDS))
                for fold in range(K_FOLDS):
                    for seed in range(SEEDS):
                        value = float(base[fold, seed] + diffs[fold, seed])
                        store.write(_record(dataset, spec, fold, seed, value, 2_000 * number, rng))
    return path


def add_variant(path: Path, dataset: str, spec: str, gain: float) -> None:
    """Append one more variant (every fold and seed) to an existing synthetic store, as a running grid would."""
    rng = np.random.default_rng(1)
    level = GRIDS[dataset]["level"]
    with Store(path) as store:
        for fold in range(K_FOLDS):
            for seed in range(SEEDS):
                store.write(_record(dataset, spec, fold, seed, level + gain + rng.normal(0, 0.001), 500, rng))


def real_tiny_grid_store(path: Path) -> Path:
    """Train unet and unet+se on shapes (3 folds, 1 epoch, 32 px, width 4) into a new store at ``path``."""
    from suite.grid import GridRequest
    from suite.runner import run_grid

    overrides = {"epochs": 1, "image_size": 32, "batch_size": 16, "model.width": 4}
    run_grid(GridRequest(["unet+se"], dataset="shapes", folds=3, overrides=overrides), store_path=str(path))
    return path
