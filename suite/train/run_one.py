"""``run_one``: train one job (spec, dataset, fold, seeds, recipe) and return its ``RunRecord``.

A recipe's ``train_fraction`` below 1 trains on a nested subset of the fold's training part
(``suite.datasets.subsets``); the validation fold is the same at every fraction.
The validation metrics reported are those of the LAST epoch, never the best one: picking the best epoch
on the validation fold would leak it into the result. That last evaluation also scores the boundary
metrics the dataset card asks for (HD95, NSD, clDice; too slow for every epoch, so the curves hold Dice
and IoU only) and keeps each validation sample's values under its sample id. The official test split,
where the dataset has one, is evaluated once at the end with the same metrics. Cost (GMACs, latency) is
measured elsewhere, once per spec, and nothing is written to the store here: the driver does that.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Callable, Iterator

import torch
from torch import Tensor, nn

from suite.build import BuiltVariant, build_variant
from suite.datasets import LoadedDataset, load_card, load_dataset, make_manifest
from suite.datasets.loaded import normalized
from suite.datasets.subsets import nested_subset
from suite.device import determinism, device_name, resolve_device
from suite.errors import SuiteError
from suite.per_sample import PerSample
from suite.recipe import Recipe, verify_weights
from suite.records import Job, RunRecord
from suite.spec import parse
from suite.train.loop import Evaluation, NonFiniteLoss, evaluate_in_detail, train_one_epoch
from suite.train.losses import make_loss
from suite.train.metrics import METRICS
from suite.train.schedule import make_optimizer, make_scheduler
from suite.train.surface_metrics import SurfaceScoring

Progress = Callable[[dict], None]
# What torch's CPU allocator says when malloc fails; it raises a plain RuntimeError, not OutOfMemoryError.
CPU_OUT_OF_MEMORY = "DefaultCPUAllocator: can't allocate memory"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def surface_scoring(data: LoadedDataset) -> SurfaceScoring | None:
    """The boundary metrics the dataset's card asks for, at the size the data is loaded (None: classification)."""
    scoring = load_card(data.name).scoring if data.task == "seg" else None
    if scoring is None:
        return None
    return SurfaceScoring(scoring.nsd_tolerance_px, scoring.spacing_at(data.image_size), scoring.tubular)


def _check_data(job: Job, recipe: Recipe, data: LoadedDataset) -> None:
    if data.name != job.dataset:
        raise SuiteError(
            f"job is for dataset {job.dataset!r} but {data.name!r} was given; pass the job's dataset"
        )
    if data.image_size != recipe.image_size:
        raise SuiteError(
            f"{data.name} is loaded at {data.image_size} px but the recipe trains at {recipe.image_size} px; "
            f"load it with image_size={recipe.image_size}"
        )


class _Trainer:
    """The state of one run on one device: model, optimizer, loss, and the batches of its fold."""

    def __init__(self, job: Job, recipe: Recipe, data: LoadedDataset, device: torch.device):
        self.job, self.recipe, self.data, self.device = job, recipe, data, device
        self.num_classes = 1 if data.task == "seg" else len(data.classes)
        cuda = device.type == "cuda"
        self.amp_dtype = torch.bfloat16 if recipe.amp and cuda else None
        self.memory_format = torch.channels_last if recipe.channels_last and cuda else torch.contiguous_format
        torch.manual_seed(job.seeds.init)
        self.built = build_variant(
            job.spec,
            task=data.task,
            num_classes=self.num_classes,
            in_channels=data.in_channels,
            image_size=recipe.image_size,
            **recipe.model,
        )
        model = self.built.model.to(device, memory_format=self.memory_format)
        self.optimizer = make_optimizer(model, recipe, self.built.inserted_parameters())
        self.model: nn.Module = torch.compile(model) if recipe.compile and cuda else model
        self.loss_fn = make_loss(recipe.loss, recipe.label_smoothing)
        self.surface = surface_scoring(data)

    def train_batches(self, train_idx: Tensor, epoch: int) -> Iterator:
        return self.data.batches(
            train_idx,
            self.recipe.batch_size,
            shuffle=True,
            seed=self.job.seeds.order,
            augment_seed=self.job.seeds.augment,
            epoch=epoch,
            augment=self.recipe.augment,
        )

    def evaluate(self, data: LoadedDataset, indices: Tensor, final: bool) -> Evaluation:
        """The metrics on ``indices``; ``final``: with the boundary metrics of the card too."""
        batches = data.batches(
            indices, self.recipe.eval_batch_size, shuffle=False, seed=0, epoch=0, augment=False
        )
        return evaluate_in_detail(
            self.model,
            batches,
            data.task,
            self.device,
            num_classes=self.num_classes,
            loss_fn=self.loss_fn,
            amp_dtype=self.amp_dtype,
            memory_format=self.memory_format,
            surface=self.surface if final else None,
        )

    def fit(
        self, train_idx: Tensor, val_idx: Tensor, curves: dict, progress: Progress | None
    ) -> Evaluation:
        """Train all epochs, evaluating after each; fills ``curves`` (loss and the per-epoch metrics);
        returns the last epoch's evaluation, boundary metrics included."""
        epochs = self.recipe.epochs
        steps_per_epoch = -(-len(train_idx) // self.recipe.batch_size)
        scheduler = make_scheduler(self.optimizer, self.recipe, steps_per_epoch)
        evaluation = Evaluation({}, {})
        for epoch in range(1, epochs + 1):
            train = train_one_epoch(
                self.model,
                self.optimizer,
                scheduler,
                self.loss_fn,
                self.train_batches(train_idx, epoch),
                self.device,
                self.amp_dtype,
                self.recipe.grad_clip,
                epoch=epoch,
                memory_format=self.memory_format,
            )
            evaluation = self.evaluate(self.data, val_idx, final=epoch == epochs)
            per_epoch = ("loss", *METRICS[self.data.task])
            row = {"epoch": epoch, "train_loss": train["loss"]}
            row |= {f"val_{k}": v for k, v in evaluation.metrics.items() if k in per_epoch}
            for name, value in row.items():
                curves.setdefault(name, []).append(value)
            if progress is not None:
                progress({"epochs": epochs, **row})
        return evaluation


def _without_loss(metrics: dict[str, float]) -> dict[str, float]:
    return {name: value for name, value in metrics.items() if name != "loss"}


def _scoring_provenance(surface: SurfaceScoring | None) -> dict:
    """What the boundary metrics were scored with, for the reports: NSD tolerance, spacing, clDice."""
    if surface is None:
        return {}
    spacing = None if surface.spacing_mm is None else list(surface.spacing_mm)
    return {"scoring": {"nsd_tolerance_px": surface.tolerance_px, "pixel_spacing_mm": spacing, "cldice": surface.tubular}}


def _weights_provenance(built: BuiltVariant) -> dict:
    """With pretrained weights: the file, what of the baseline stayed fresh or was adapted, and the
    inserted modules' parameters, which start new."""
    if built.loaded_weights is None:
        return {}
    return {"weights": {**built.loaded_weights.to_dict(), "new": built.inserted_parameter_names()}}


def _out_of_memory(err: RuntimeError, device: torch.device, curves: dict) -> str:
    """The failed run's reason, with the way out; frees what the run left cached on the GPU."""
    if device.type == "cuda":
        torch.cuda.empty_cache()
    epoch = len(curves.get("epoch", [])) + 1
    first_line = str(err).strip().splitlines()[0] if str(err).strip() else "no details"
    return (
        f"out of memory on {device} in epoch {epoch} ({first_line}); free the device and run the same "
        "command with --retry-failed, or lower --batch-size / --image-size (a new recipe, so new runs)"
    )


def failed_record(job: Job, error: str, started_at: str | None = None) -> RunRecord:
    """The record of a run that never returned one (its worker died every time it was tried): failed,
    with ``error`` as the reason, so the grid goes on and ``--retry-failed`` can train it again."""
    return RunRecord(
        key=job.key,
        spec=job.spec,
        baseline=parse(job.spec).baseline,
        dataset=job.dataset,
        manifest_hash=job.manifest_hash,
        k=job.k,
        fold=job.fold,
        seeds=job.seeds,
        recipe=job.recipe,
        recipe_hash=job.recipe_hash or Recipe.from_dict(job.recipe).hash,
        status="failed",
        error=error,
        device=job.device,
        started_at=started_at or _now(),
        finished_at=_now(),
    )


def run_one(job: Job, data: LoadedDataset | None = None, progress: Progress | None = None) -> RunRecord:
    """Train ``job`` on its fold and return the record (status ``done``, or ``failed`` with the epoch and
    reason when the loss turns non-finite or the device runs out of memory).

    ``data``: the dataset already loaded at the recipe's image size (saves decoding it per job);
    ``progress``: called after each epoch with a dict of ``epoch``, ``epochs``, ``train_loss``, ``val_loss``
    and ``val_<metric>``. Global RNG and determinism settings are restored afterwards.
    """
    started_at, start = _now(), time.perf_counter()
    recipe = Recipe.from_dict(job.recipe)
    verify_weights(recipe, parse(job.spec).baseline)
    device = resolve_device(job.device)
    if data is None:
        data = load_dataset(job.dataset, root=job.data_root, image_size=recipe.image_size)
    _check_data(job, recipe, data)
    manifest = make_manifest(data, job.k, job.seeds.split)
    if manifest.sha256 != job.manifest_hash:
        raise SuiteError(
            f"the {job.dataset} folds (k={job.k}, split seed {job.seeds.split}) hash to "
            f"{manifest.sha256[:16]}, not the job's {job.manifest_hash[:16]}; the samples changed since the grid "
            "was planned: plan it again"
        )
    train_idx, val_idx = manifest.split(job.fold, data.ids)
    train_idx = nested_subset(train_idx, data, recipe.train_fraction, job.seeds.split, job.fold)
    if device.type == "cuda":
        data = data.to(device)
    data = normalized(data, recipe.normalization, train_idx)
    record = RunRecord(
        key=job.key,
        spec=job.spec,
        baseline=parse(job.spec).baseline,
        dataset=job.dataset,
        manifest_hash=job.manifest_hash,
        k=job.k,
        fold=job.fold,
        seeds=job.seeds,
        recipe=job.recipe,
        recipe_hash=job.recipe_hash or recipe.hash,
        status="done",
        n_train=len(train_idx),
        n_val=len(val_idx),
        device=f"{device}: {device_name(device)}",
        started_at=started_at,
        provenance={"folds": manifest.kind, **_scoring_provenance(surface_scoring(data))},
    )
    fork_devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=fork_devices), determinism(recipe.deterministic, device):
        try:
            trainer = _Trainer(job, recipe, data, device)
            record.params, record.params_added = trainer.built.params, trainer.built.params_added
            record.provenance.update(_weights_provenance(trainer.built))
            last = trainer.fit(train_idx, val_idx, record.curves, progress)
            record.metrics = _without_loss(last.metrics)
            record.per_sample = PerSample([data.ids[i] for i in val_idx.tolist()], last.per_sample)
            if data.test is not None:
                test = trainer.evaluate(data.test, torch.arange(len(data.test.ids)), final=True)
                record.test_metrics = _without_loss(test.metrics)
        except NonFiniteLoss as err:
            record.status, record.error = "failed", str(err)
        except RuntimeError as err:  # torch.OutOfMemoryError (CUDA) is one, and so is what the CPU allocator raises
            if not (isinstance(err, torch.OutOfMemoryError) or CPU_OUT_OF_MEMORY in str(err)):
                raise
            record.status, record.error = "failed", _out_of_memory(err, device, record.curves)
    record.wall_s = time.perf_counter() - start
    record.finished_at = _now()
    return record
