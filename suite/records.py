"""The two records that cross process boundaries: a ``Job`` (what to train) and a ``RunRecord`` (what came out).

A job is one (canonical spec, dataset, manifest, fold, seeds, recipe) cell of a grid; its ``key`` is the
hash of exactly those fields, so the same cell is never trained twice. A spec that uses modules from
plugin files or packages (``suite.plugins``) adds the SHA-256 of each one's file to the key, so an edited
plugin trains again; a spec of built-in modules keeps the key it always had. Workers turn a job into a
record; only the driver writes records to the store.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

from suite.per_sample import PerSample


def stable_hash(payload: object, length: int = 16) -> str:
    """SHA-256 of the canonical JSON of ``payload`` (sorted keys, no spaces), hex, truncated."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


@dataclass(frozen=True)
class Seeds:
    """Separate seeds so that one can change without the others (DESIGN: data, folds, seeds)."""

    split: int = 0  # which samples go in which fold
    init: int = 0  # weight initialisation
    order: int = 0  # order of training batches
    augment: int = 0  # random augmentation draws

    @classmethod
    def from_repeat(cls, split_seed: int, repeat: int) -> "Seeds":
        """The seeds of repeat ``repeat`` (0, 1, ...) of a grid made on split ``split_seed``."""
        return cls(split=split_seed, init=repeat, order=repeat, augment=repeat)


@dataclass(frozen=True)
class Job:
    """One training run: the spec, the data cell and the resolved recipe."""

    spec: str  # canonical spec string
    dataset: str
    data_root: str | None
    k: int
    fold: int
    seeds: Seeds
    manifest_hash: str
    recipe: dict = field(hash=False)
    recipe_hash: str = ""
    device: str = "cpu"
    plugins: dict = field(default_factory=dict, hash=False)  # plugin module -> SHA-256 of its file

    @property
    def seed(self) -> int:
        """The repeat index: init seed (the baseline and variant of one cell share it)."""
        return self.seeds.init

    @property
    def key(self) -> str:
        fields = {
            "spec": self.spec,
            "dataset": self.dataset,
            "manifest": self.manifest_hash,
            "fold": self.fold,
            "seeds": asdict(self.seeds),
            "recipe": self.recipe_hash,
        }
        return stable_hash({**fields, "plugins": self.plugins} if self.plugins else fields)


@dataclass
class RunRecord:
    """Everything one finished (or failed) run produced, as the store keeps it."""

    key: str
    spec: str
    baseline: str
    dataset: str
    manifest_hash: str
    k: int
    fold: int
    seeds: Seeds
    recipe: dict
    recipe_hash: str
    status: str  # "done" | "failed"
    error: str | None = None
    metrics: dict = field(default_factory=dict)  # final validation metrics (last epoch)
    per_sample: PerSample | None = None  # last epoch's value per validation sample, keyed by sample id
    test_metrics: dict = field(default_factory=dict)  # official test split, where one exists
    curves: dict = field(default_factory=dict)  # {"epoch": [...], "train_loss": [...], "val_<m>": [...]}
    n_train: int = 0
    n_val: int = 0
    params: int | None = None
    params_added: int | None = None
    gmacs: float | None = None  # fvcore GMACs at the recipe's image size, batch 1
    latency_ms: float | None = None  # forward latency, batch 1, on ``device``: 10th percentile (median before v4)
    baseline_latency_ms: float | None = None  # the plain baseline's, timed interleaved with this spec's passes
    latency_spread_ms: float | None = None  # half-width of the bootstrap 95% interval of latency - baseline latency
    wall_s: float = 0.0
    device: str = ""
    provenance: dict = field(default_factory=dict)  # versions, git commit, command line, host
    started_at: str = ""
    finished_at: str = ""
