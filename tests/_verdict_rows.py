"""Build store-shaped run tables (one row per finished run) for the verdict and report tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

CLS_DATASET, SEG_DATASET = "digits", "isbi2012"


def runs_frame(
    values: dict[str, np.ndarray],
    dataset: str = CLS_DATASET,
    metric: str = "accuracy",
    manifest_hash: str = "m" * 64,
    recipe_hash: str = "r" * 16,
    n_train: int = 4000,
    n_val: int = 1000,
    cost: dict[str, tuple[int, float, float]] | None = None,
    device: str = "cpu",
) -> pd.DataFrame:
    """Rows for each spec from a (k, r) array of ``val_<metric>`` values (fold x seed).

    The baseline of a spec is its part before the first "+"; ``cost`` maps spec -> (params, GMACs, ms).
    1000 validation images per fold put the resolution floor of the standard error (one image: 0.1
    accuracy points, 0.001 Dice) below the noise of the simulated grids.
    """
    rows = []
    for spec, matrix in values.items():
        matrix = np.asarray(matrix, dtype=float)
        k, repeats = matrix.shape
        baseline, _, rest = spec.partition("+")
        module = "+".join(part.split("@")[0].split("(")[0] for part in rest.split("+")) if rest else ""
        params, gmacs, latency = (cost or {}).get(
            spec, (1_000_000 + 1000 * len(rest), 1.0 + 0.01 * len(rest), 2.0 + 0.1 * len(rest))
        )
        for fold in range(k):
            for seed in range(repeats):
                rows.append(
                    {
                        "key": f"{spec}|{dataset}|{fold}|{seed}",
                        "spec": spec,
                        "baseline": baseline,
                        "module": module,
                        "points": rest.split("@")[1] if "@" in rest else "",
                        "dataset": dataset,
                        "manifest_hash": manifest_hash,
                        "recipe_hash": recipe_hash,
                        "recipe": {"task": "seg" if metric in ("dice", "iou") else "cls"},
                        "k": k,
                        "fold": fold,
                        "seed": seed,
                        "split_seed": 0,
                        "order_seed": seed,
                        "augment_seed": seed,
                        "status": "done",
                        "error": None,
                        "n_train": n_train,
                        "n_val": n_val,
                        "params": params,
                        "params_added": None,
                        "gmacs": gmacs,
                        "latency_ms": latency,
                        "wall_s": 1.0,
                        "device": device,
                        "provenance": {
                            "versions": {"suite": "0.1.0", "torch": "2.14.1"},
                            "git_commit": "abc1234",
                            "device_name": "Test CPU",
                            "cuda": None,
                        },
                        "curves": {},
                        "started_at": "2025-01-01T00:00:00+00:00",
                        "finished_at": "2025-01-01T00:01:00+00:00",
                        f"val_{metric}": matrix[fold, seed],
                    }
                )
    return pd.DataFrame(rows)


def effect_grid(
    rng: np.random.Generator,
    gain: float,
    k: int = 5,
    repeats: int = 2,
    base: float = 90.0,
    noise: float = 0.2,
    spread: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """(baseline, variant) fold x seed matrices: a fold difficulty both share (sd ``spread``), the variant
    ``gain`` higher, and independent run noise (sd ``noise``) on every cell."""
    fold_level = base + rng.normal(0.0, spread, size=(k, 1))
    baseline = fold_level + rng.normal(0.0, noise, size=(k, repeats))
    variant = fold_level + gain + rng.normal(0.0, noise, size=(k, repeats))
    return baseline, variant
