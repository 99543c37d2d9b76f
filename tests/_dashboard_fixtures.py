"""Results stores for the dashboard tests: a synthetic grid written record by record, and a real tiny grid.

``real_tiny_grid_store`` trains a real (tiny) grid the way ``suite run`` does, through
``suite.runner.run_grid``: U-Net with and without SE on the synthetic shapes set, 3 folds, 1 epoch.
It takes tens of seconds on 2 CPU cores, so the tests that use it are marked slow.

``synthetic_grid_store`` writes SYNTHETIC run records via ``Store.write`` (no training happened): two datasets, one
segmentation (Dice/IoU) and one classification (accuracy/macro F1), a 5-fold x 2-seed grid per
variant, with per-fold values drawn so that each verdict label comes out: a consistent gain (holds, clearly above delta or
not), a consistent loss (worse), a consistent loss below delta (small loss), a negligible difference (no
practical gain) and a noisy one (inconclusive). Every run keeps per-image values of its validation
images (Dice, IoU and HD95 per image; right or wrong per digit), the segmentation runs also an HD95
(lower is better) and a score on a pretend official test split. One more variant has a failed run (its comparison is
refused, naming the failure), and the U-Net baseline has a second setting (image size 48) with SE, so
the leaderboard labels two baseline rows. ``across_store`` writes SE and ECA on more datasets for the
Across datasets page (on its own, or next to this grid: then both are on 5 datasets).
The tests never hard-code those labels: they read them from ``suite.verdict.compare`` on the same
store, so either builder serves the same tests.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

from suite.per_sample import PerSample
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
        "variants": {"resnet18+se": (2.0, 0.2), "resnet18+eca": (-0.3, 0.2)},
    },
}
LATENCY_SPREAD_MS = 0.02  # wider than the latency the first variants add: those are marked unreliable
FAILED = ("shapes", "unet+ge", 2, 1)  # (dataset, variant, fold, seed) of the run that failed
FAILED_ERROR = "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB\nTraceback (most recent call last): ..."
SECOND_SETTING = ("shapes", 48, {"unet": 0.0, "unet+se": 0.03})  # dataset, image size, spec -> gain
SECOND_METRIC = {"dice": ("iou", lambda dice: dice / (2 - dice)), "accuracy": ("macro_f1", lambda acc: acc - 1.5)}
HD95 = ("hd95", lambda dice: 40.0 * (1.0 - dice))  # px: a better Dice comes with a lower HD95
IMAGES = 12  # validation images per fold (n_val)


def _per_image(dataset: str, spec: str, fold: int, seed: int, value: float) -> PerSample:
    """Per-image values of one run whose metric is ``value``: each image keeps its own difficulty on every run
    of the fold (so baseline and variant pair up), plus a little run noise (from its own generator, so the
    grid's values are those drawn without per-image values)."""
    ids = [f"{dataset}-{fold * IMAGES + i:03d}" for i in range(IMAGES)]
    difficulty = np.random.default_rng(fold).normal(0.0, 1.0, IMAGES)
    if GRIDS[dataset]["metric"] == "accuracy":  # the hardest images are the ones a run gets wrong
        right = np.zeros(IMAGES)
        right[np.argsort(difficulty)[: round(value / 100 * IMAGES)]] = 100.0
        return PerSample(ids, {"accuracy": right})
    noise = np.random.default_rng([fold, seed, zlib.crc32(spec.encode())]).normal(0, 0.005, IMAGES)
    offsets = 0.05 * (difficulty - difficulty.mean()) + noise
    dice = np.clip(value - offsets, 0.0, 1.0)
    return PerSample(ids, {"dice": dice, "iou": dice / (2 - dice), "hd95": HD95[1](dice)})


def _record(
    dataset: str,
    spec: str,
    fold: int,
    seed: int,
    value: float,
    added: int,
    rng: np.random.Generator,
    image_size: int = 32,
    error: str | None = None,
) -> RunRecord:
    """A done run with ``value`` as its metric, or a failed one (no metrics) when ``error`` is given."""
    grid = GRIDS[dataset]
    metric = grid["metric"]
    second, convert = SECOND_METRIC[metric]
    params, gmacs, latency = grid["cost"]
    recipe = Recipe(epochs=3, image_size=image_size, loss="dice_bce" if metric == "dice" else "ce")
    epochs = [1, 2, 3]
    val_curve = [value * f for f in (0.8, 0.93, 1.0)]
    seeds = Seeds.from_repeat(0, seed)
    metrics, test = {metric: value, second: convert(value)}, {}
    if metric == "dice":
        metrics[HD95[0]] = HD95[1](value)
        test = {name: number - 0.02 if name != HD95[0] else number + 1.0 for name, number in metrics.items()}
    spec = key(spec)  # canonical, as ``suite run`` stores it: unet+se -> unet+se@dec1,dec2,dec3,dec4
    return RunRecord(
        key=stable_hash({"spec": spec, "dataset": dataset, "fold": fold, "seed": seed, "recipe": recipe.hash}),
        spec=spec,
        baseline=parse(spec).baseline,
        dataset=dataset,
        manifest_hash=MANIFEST[dataset],
        k=K_FOLDS,
        fold=fold,
        seeds=seeds,
        recipe=recipe.to_dict(),
        recipe_hash=recipe.hash,
        status="done" if error is None else "failed",
        error=error,
        metrics=metrics if error is None else {},
        per_sample=_per_image(dataset, spec, fold, seed, value) if error is None else None,
        test_metrics=test if error is None else {},
        curves={
            "epoch": epochs,
            "train_loss": [round(1.0 / e + rng.uniform(0, 0.02), 4) for e in epochs],
            f"val_{metric}": val_curve,
            f"val_{second}": [convert(v) for v in val_curve],
        },
        n_train=48,
        n_val=IMAGES,
        params=params + added,
        params_added=added,
        gmacs=gmacs * (1 + added / params),
        latency_ms=latency * (1 + 3 * added / params),
        baseline_latency_ms=latency,  # timed interleaved with the baseline (schema v4)
        latency_spread_ms=LATENCY_SPREAD_MS if added else None,
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
        dataset, spec, failed_fold, failed_seed = FAILED
        for fold in range(K_FOLDS):
            for seed in range(SEEDS):
                error = FAILED_ERROR if (fold, seed) == (failed_fold, failed_seed) else None
                value = GRIDS[dataset]["level"] + rng.normal(0, 0.01)
                store.write(_record(dataset, spec, fold, seed, value, 1_000, rng, error=error))
        dataset, size, gains = SECOND_SETTING
        base = GRIDS[dataset]["level"] + rng.normal(0, 0.02, size=(K_FOLDS, SEEDS))
        for number, (spec, gain) in enumerate(gains.items()):
            for fold in range(K_FOLDS):
                for seed in range(SEEDS):
                    value = float(base[fold, seed] + gain + rng.normal(0, 0.002))
                    store.write(_record(dataset, spec, fold, seed, value, 2_000 * number, rng, image_size=size))
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


ACROSS_TASKS = (  # dataset, baseline, metric, its delta: the tasks of ``across_store``, in order
    ("digits", "resnet18", "accuracy", 0.5),
    ("shapes", "unet", "dice", 0.01),
    ("isbi2012-membrane", "unet", "dice", 0.01),
    ("kvasir-seg", "unet", "dice", 0.01),
    ("cvc-clinicdb", "unet", "dice", 0.01),
)


def across_store(path: Path, tasks: tuple = ACROSS_TASKS) -> Path:
    """SE (at its default points) and ECA on each of ``tasks`` (some of ``ACROSS_TASKS``), 5 folds x 2 seeds:
    SE gains about two deltas on every task, ECA loses about half a delta. Synthetic records, no training."""
    rng = np.random.default_rng(5)
    with Store(path) as store:
        for dataset, baseline, metric, delta in tasks:
            recipe = Recipe(epochs=3, image_size=32, loss="dice_bce" if metric == "dice" else "ce")
            level = 90.0 if metric == "accuracy" else 0.8
            folds = level + rng.normal(0, 4 * delta, size=(K_FOLDS, 1))
            for spec, gain in ((baseline, 0.0), (f"{baseline}+se", 2 * delta), (f"{baseline}+eca", -0.5 * delta)):
                spec = key(spec)
                values = folds + gain + rng.normal(0, delta / 4, size=(K_FOLDS, SEEDS))
                for fold in range(K_FOLDS):
                    for seed in range(SEEDS):
                        store.write(
                            RunRecord(
                                key=stable_hash({"spec": spec, "dataset": dataset, "fold": fold, "seed": seed}),
                                spec=spec,
                                baseline=baseline,
                                dataset=dataset,
                                manifest_hash=f"synthetic-manifest-{dataset}",
                                k=K_FOLDS,
                                fold=fold,
                                seeds=Seeds.from_repeat(0, seed),
                                recipe=recipe.to_dict(),
                                recipe_hash=recipe.hash,
                                status="done",
                                metrics={metric: float(values[fold, seed])},
                                n_train=4000,
                                n_val=1000,  # the resolution floor (0.1 accuracy points) stays below the noise
                                device="cpu",
                                provenance=PROVENANCE,
                            )
                        )
    return path
