"""Per-sample values of a run's last validation epoch, and a variant's paired with its baseline's image by image.

A run keeps one value per validation sample for each metric that has one (Dice, IoU, HD95, NSD, clDice;
for classification, accuracy: 100 right, 0 wrong), in the order of the fold's validation ids. In the store
the values are a compressed npz of float32 arrays (a CIFAR-10 fold of 10,000 images: about 1.6 kB for
right/wrong, 36 kB for a continuous metric) and the ids are stored once per distinct id list, keyed by
their SHA-256, so the k folds' ids are written k times, not once per run.

``paired`` lines a variant's values up with its baseline's on the same images (same fold, seed and sample
id), averages the seeds of each image, and orients the difference so that a positive gain is better
(``baseline - variant`` for a lower-is-better metric such as HD95). ``summarize`` gives percentiles.
"""

from __future__ import annotations

import hashlib
import io
import json
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from suite.metric_catalog import metric_info

PERCENTILES = (5, 25, 50, 75, 95)  # per-image percentiles the reports give


@dataclass(frozen=True, eq=False)
class PerSample:
    """One value per validation sample and metric; ``values[m][i]`` belongs to sample ``ids[i]``."""

    ids: tuple[str, ...]
    values: dict[str, np.ndarray]  # metric -> float32 (len(ids),)

    def __post_init__(self) -> None:
        if not isinstance(self.ids, tuple):  # a tuple is kept as it is: the runs of one fold share one
            object.__setattr__(self, "ids", tuple(str(i) for i in self.ids))
        arrays = {name: np.asarray(v, dtype=np.float32).reshape(-1) for name, v in self.values.items()}
        for name, array in arrays.items():
            if len(array) != len(self.ids):
                raise ValueError(f"per-sample {name} has {len(array)} values for {len(self.ids)} sample ids")
        object.__setattr__(self, "values", arrays)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PerSample):
            return NotImplemented
        return (
            self.ids == other.ids
            and self.values.keys() == other.values.keys()
            and all(np.array_equal(v, other.values[k], equal_nan=True) for k, v in self.values.items())
        )

    @property
    def digest(self) -> str:
        """SHA-256 of the ids: the key under which the store keeps them once."""
        return hashlib.sha256(encode_ids(self.ids)).hexdigest()

    def encode_values(self) -> bytes:
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **self.values)
        return buffer.getvalue()

    @classmethod
    def decode(cls, ids: tuple[str, ...], blob: bytes) -> "PerSample":
        with np.load(io.BytesIO(blob), allow_pickle=False) as arrays:
            return cls(ids, {name: arrays[name] for name in arrays.files})


def encode_ids(ids: tuple[str, ...]) -> bytes:
    return zlib.compress(json.dumps(list(ids), separators=(",", ":")).encode(), 9)


def decode_ids(blob: bytes) -> tuple[str, ...]:
    return tuple(json.loads(zlib.decompress(blob)))


def _long(runs: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One row per (fold, seed, id) of the runs that kept per-sample ``metric`` values."""
    parts = [
        pd.DataFrame({"fold": run.fold, "seed": run.seed, "id": run.per_sample.ids, "value": run.per_sample.values[metric]})
        for run in runs.itertuples()
        if isinstance(run.per_sample, PerSample) and metric in run.per_sample.values
    ]
    if not parts:
        return pd.DataFrame({"fold": [], "seed": [], "id": [], "value": []})
    return pd.concat(parts, ignore_index=True)


def paired(baseline_runs: pd.DataFrame, variant_runs: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Columns fold, id, baseline, variant, gain: one row per validation image that both scored in the same
    (fold, seed) cells, seeds averaged; ``gain`` is oriented so that positive is better."""
    base, var = _long(baseline_runs, metric), _long(variant_runs, metric)
    both = base.merge(var, on=["fold", "seed", "id"], suffixes=("_baseline", "_variant"))
    per_image = both.groupby(["fold", "id"], sort=True)[["value_baseline", "value_variant"]].mean().reset_index()
    per_image = per_image.rename(columns={"value_baseline": "baseline", "value_variant": "variant"})
    sign = 1.0 if metric_info(metric).higher_is_better else -1.0
    per_image["gain"] = sign * (per_image["variant"] - per_image["baseline"])
    per_image["fold"] = per_image["fold"].astype("int64")
    return per_image


@dataclass(frozen=True)
class PerImageSummary:
    """Percentiles (``PERCENTILES``) of the paired per-image values, and how many images each side won."""

    images: int  # validation images paired (each once, its seeds averaged)
    baseline: tuple[float, ...]
    variant: tuple[float, ...]
    gain: tuple[float, ...]  # of the per-image gain, positive = better
    better: int  # images where the variant scored better
    worse: int
    tied: int

    def to_dict(self) -> dict:
        def at(values: tuple[float, ...]) -> dict[str, float]:
            return {f"p{p}": v for p, v in zip(PERCENTILES, values)}

        return {
            "images": self.images,
            "percentiles": list(PERCENTILES),
            "values": {"baseline": at(self.baseline), "variant": at(self.variant), "gain": at(self.gain)},
            "better": self.better,
            "worse": self.worse,
            "tied": self.tied,
        }


def summarize(pairs: pd.DataFrame) -> PerImageSummary | None:
    """The summary of ``paired``'s rows, or None when no image was paired."""
    if pairs.empty:
        return None

    def at(column: str) -> tuple[float, ...]:
        return tuple(float(v) for v in np.percentile(pairs[column].to_numpy(dtype=float), PERCENTILES))

    gain = pairs["gain"].to_numpy(dtype=float)
    return PerImageSummary(
        len(pairs), at("baseline"), at("variant"), at("gain"), int((gain > 0).sum()), int((gain < 0).sum()),
        int((gain == 0).sum()),
    )  # fmt: skip
