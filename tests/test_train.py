"""Training: metrics against independent numpy counts, losses, schedule, and real ``run_one`` runs on tiny data."""

from __future__ import annotations

import importlib
import math
from dataclasses import replace

import numpy as np
import pytest
import torch
from torch import nn

from suite.datasets import LoadedDataset, load_dataset, make_manifest
from suite.errors import SuiteError
from suite.executors.local import LocalExecutor
from suite.recipe import Recipe, load_recipe
from suite.records import Job, RunRecord, Seeds
from suite.train import (
    METRICS,
    Evaluation,
    NonFiniteLoss,
    evaluate,
    final_metric_names,
    make_loss,
    make_scheduler,
    per_image_dice_iou,
    run_one,
    surface_scoring,
    train_one_epoch,
)
from suite.device import determinism
from suite.train.schedule import warmup_cosine_factor

CPU = torch.device("cpu")
run_one_module = importlib.import_module("suite.train.run_one")  # the module, not the function of that name


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny networks gain nothing from a second thread, and on a busy machine the threads wait on each other."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def subset(data: LoadedDataset, count: int) -> LoadedDataset:
    """The first ``count`` samples (fold manifests are keyed by ids, so a subset gets its own folds)."""
    return replace(
        data,
        images=data.images[:count],
        targets=data.targets[:count],
        ids=data.ids[:count],
        groups=None if data.groups is None else data.groups[:count],
        valid=None if data.valid is None else data.valid[:count],
        strata=None if data.strata is None else data.strata[:count],
        test=None,
    )


def make_job(data: LoadedDataset, spec: str, recipe: Recipe, k: int, fold: int = 0, seeds: Seeds = Seeds()) -> Job:
    manifest = make_manifest(data, k, seeds.split)
    return Job(spec, data.name, None, k, fold, seeds, manifest.sha256, recipe.to_dict(), recipe.hash)


@pytest.fixture(scope="module")
def shapes() -> LoadedDataset:
    """24 synthetic segmentation images at 32 px (always available: generated, not downloaded)."""
    return subset(load_dataset("shapes", image_size=32), 24)


def tiny_unet(**overrides: object) -> Recipe:
    settings = {"epochs": 2, "batch_size": 8, "image_size": 32, "model.width": 4, "warmup_epochs": 0.5}
    return load_recipe("unet", "seg", "quick", {**settings, **overrides})


# ---- metrics -------------------------------------------------------------------------------------


def numpy_dice_iou(pred: np.ndarray, target: np.ndarray, valid: np.ndarray) -> tuple[float, float]:
    """Reference for one image: counts inside ``valid``; both empty -> 1, one empty -> 0."""
    p, t = pred[valid].astype(bool), target[valid].astype(bool)
    inter, union, total = (p & t).sum(), (p | t).sum(), p.sum() + t.sum()
    if total == 0:
        return 1.0, 1.0
    return 2 * inter / total, inter / union


def test_per_image_dice_iou_matches_numpy_including_empty_masks() -> None:
    rng = np.random.default_rng(0)
    target = (rng.random((6, 9, 7)) < 0.3).astype(np.uint8)
    pred = (rng.random((6, 9, 7)) < 0.4).astype(np.uint8)
    target[1], pred[1] = 0, 0  # both empty: 1
    target[2], pred[2] = 0, pred[2] | 1  # empty target, non-empty prediction: 0
    target[3], pred[3] = 1, 0  # non-empty target, empty prediction: 0
    valid = rng.random((6, 9, 7)) < 0.7
    valid[4] = True
    target[5][~valid[5]], pred[5][~valid[5]] = 0, 1  # errors outside the valid region do not count
    logits = torch.from_numpy(np.where(pred == 1, 3.0, -3.0)).float()[:, None]
    dice, iou = per_image_dice_iou(logits, torch.from_numpy(target)[:, None], torch.from_numpy(valid)[:, None])
    expected = [numpy_dice_iou(pred[i], target[i], valid[i]) for i in range(6)]
    np.testing.assert_allclose(dice.numpy(), [d for d, _ in expected], rtol=1e-12)
    np.testing.assert_allclose(iou.numpy(), [j for _, j in expected], rtol=1e-12)
    assert (dice[1], iou[1], dice[2], iou[2], dice[3]) == (1.0, 1.0, 0.0, 0.0, 0.0)


def test_threshold_is_sigmoid_one_half() -> None:
    inside_unit_interval = torch.tensor([[[[0.2, 0.4, 0.6, 0.9]]]])  # logits, not probabilities: all foreground
    dice, iou = per_image_dice_iou(inside_unit_interval, torch.ones(1, 1, 1, 4))
    assert (dice.item(), iou.item()) == (1.0, 1.0)
    dice, iou = per_image_dice_iou(torch.tensor([[[[-0.1, 0.1]]]]), torch.ones(1, 1, 1, 2))
    assert iou.item() == pytest.approx(0.5) and dice.item() == pytest.approx(2 / 3)


def test_segmentation_scores_average_per_image_not_per_pixel() -> None:
    target = torch.zeros(2, 1, 10, 10)
    target[0, 0, :5], target[1, 0, 0, 0] = 1, 1  # a big and a one-pixel object
    logits = torch.full_like(target, -5.0)
    logits[0, 0, :5] = 5.0  # image 0 perfect, image 1 missed entirely
    result = evaluate(nn.Identity(), [(logits, target)], "seg", CPU)
    assert result == {"dice": 0.5, "iou": 0.5}  # pooled pixels would give 100/101


def test_accuracy_and_macro_f1_are_percent() -> None:
    logits = torch.eye(3)[[0, 1, 2, 2]]  # predictions 0, 1, 2, 2
    target = torch.tensor([0, 1, 2, 1])
    batches = [(logits[:2], target[:2]), (logits[2:], target[2:])]
    result = evaluate(nn.Identity(), batches, "cls", CPU, num_classes=3)
    f1 = [1.0, 2 / 3, 2 / 3]  # class 1: one of two found; class 2: one of two predictions right
    assert result["accuracy"] == pytest.approx(75.0)
    assert result["macro_f1"] == pytest.approx(100 * sum(f1) / 3)


# ---- losses, schedule, loop ------------------------------------------------------------------------


def test_dice_bce_ignores_pixels_outside_the_valid_region() -> None:
    loss_fn = make_loss("dice_bce")
    target = (torch.rand(2, 1, 8, 8) > 0.5).float()
    valid = torch.zeros(2, 1, 8, 8, dtype=torch.bool)
    valid[..., 2:6, 2:6] = True
    logits = torch.randn(2, 1, 8, 8)
    changed = logits.clone()
    changed[~valid] = 100.0
    assert loss_fn(logits, target, valid) == pytest.approx(loss_fn(changed, target, valid).item())
    assert loss_fn(logits, target) != pytest.approx(loss_fn(changed, target).item())
    perfect = (target * 2 - 1) * 50
    assert loss_fn(perfect, target).item() < 1e-6


def test_cross_entropy_uses_label_smoothing() -> None:
    logits, target = torch.tensor([[20.0, -20.0]]), torch.tensor([0])
    assert make_loss("ce")(logits, target).item() < 1e-6
    assert make_loss("ce", label_smoothing=0.2)(logits, target).item() > 1.0


def test_schedule_warms_up_linearly_then_decays_by_cosine_per_step() -> None:
    recipe = Recipe(epochs=4, lr=0.5, warmup_epochs=1)
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=recipe.lr)
    scheduler = make_scheduler(optimizer, recipe, steps_per_epoch=5)
    lrs = []
    for _ in range(20):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert lrs[:5] == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5])
    decay = lrs[5:]
    assert all(a > b for a, b in zip(decay, decay[1:])) and decay[-1] < 0.01
    assert decay[7] == pytest.approx(0.5 * 0.5 * (1 + math.cos(math.pi * 7 / 15)))
    assert warmup_cosine_factor(20, 5, 20) == pytest.approx(0.0)


def test_train_one_epoch_raises_on_a_non_finite_loss_with_its_step() -> None:
    model = nn.Linear(4, 2)
    labels = torch.tensor([0, 1, 0])
    batches = [(torch.randn(3, 4), labels), (torch.randn(3, 4), labels), (torch.full((3, 4), float("nan")), labels)]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    with pytest.raises(NonFiniteLoss, match=r"non-finite loss at epoch 4 step 3 \(nan\)") as caught:
        train_one_epoch(model, optimizer, None, make_loss("ce"), batches, CPU, epoch=4)
    assert (caught.value.epoch, caught.value.step) == (4, 3)


def test_train_one_epoch_returns_the_sample_weighted_mean_loss() -> None:
    model = nn.Linear(2, 2)
    batches = [(torch.randn(3, 2), torch.tensor([0, 1, 0])), (torch.randn(1, 2), torch.tensor([1]))]
    loss_fn = make_loss("ce")
    expected = sum(loss_fn(model(x), y).item() * len(y) for x, y in batches) / 4  # lr 0: weights never move
    result = train_one_epoch(model, torch.optim.SGD(model.parameters(), lr=0.0), None, loss_fn, batches, CPU)
    assert result["loss"] == pytest.approx(expected)


def test_determinism_switch_restores_global_settings() -> None:
    before = torch.are_deterministic_algorithms_enabled()
    with determinism(not before, CPU):
        assert torch.are_deterministic_algorithms_enabled() is (not before)
    assert torch.are_deterministic_algorithms_enabled() is before


# ---- run_one -------------------------------------------------------------------------------------


def test_run_one_records_a_segmentation_run(shapes: LoadedDataset) -> None:
    recipe = tiny_unet()
    seen: list[dict] = []
    job = make_job(shapes, "unet", recipe, k=3, fold=1)
    record = run_one(job, shapes, progress=seen.append)
    assert isinstance(record, RunRecord) and record.status == "done" and record.error is None
    assert set(record.metrics) == set(final_metric_names("seg", surface_scoring(shapes))) == {"dice", "iou", "hd95", "nsd"}
    assert all(0.0 <= value <= 1.0 for name, value in record.metrics.items() if name != "hd95")
    assert 0.0 <= record.metrics["hd95"] <= math.hypot(32, 32)  # pixels of the 32 px mask
    assert (record.n_train, record.n_val, record.fold) == (16, 8, 1)
    assert record.curves["epoch"] == [1, 2] and len(record.curves["val_dice"]) == 2
    assert "val_hd95" not in record.curves and "val_hd95" not in seen[-1]  # boundary metrics: last epoch only
    _, val_idx = make_manifest(shapes, 3, 0).split(1, shapes.ids)
    assert record.per_sample.ids == tuple(shapes.ids[i] for i in val_idx.tolist())
    assert set(record.per_sample.values) == set(record.metrics)
    for name, values in record.per_sample.values.items():  # the metric is the mean of the per-image values
        assert values.mean() == pytest.approx(record.metrics[name], rel=1e-6), name
    assert [row["epoch"] for row in seen] == [1, 2] and seen[-1]["epochs"] == 2
    assert seen[-1]["val_dice"] == record.metrics["dice"] and "train_loss" in seen[0]
    assert record.params > 0 and record.params_added == 0 and record.gmacs is None
    assert record.device.startswith("cpu: ") and record.wall_s > 0
    assert record.started_at.endswith("+00:00") and record.finished_at >= record.started_at
    assert record.recipe_hash == recipe.hash and record.baseline == "unet" and record.test_metrics == {}


def test_same_job_twice_gives_identical_results(shapes: LoadedDataset) -> None:
    seeds = Seeds(split=0, init=3, order=3, augment=3)
    job = make_job(shapes, "unet", tiny_unet(deterministic=True), k=3, seeds=seeds)
    first, second = run_one(job, shapes), run_one(job, shapes)
    assert first.metrics == second.metrics and first.curves == second.curves
    other_seed = replace(job, seeds=Seeds(split=0, init=4, order=4, augment=4))
    assert run_one(other_seed, shapes).curves["train_loss"] != first.curves["train_loss"]


def test_run_one_leaves_the_global_random_state_alone(shapes: LoadedDataset) -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    run_one(make_job(shapes, "unet", tiny_unet(epochs=1), k=3), shapes)
    assert torch.equal(torch.rand(3), expected)


def test_exploding_learning_rate_fails_the_run_with_its_epoch(shapes: LoadedDataset) -> None:
    # A learning rate far beyond the (0, 10] a recipe accepts, set past the check, makes the loss
    # non-finite as any other cause (a module, the data) would.
    exploding = Recipe.from_dict({**tiny_unet().to_dict(), "lr": 1e30})
    record = run_one(make_job(shapes, "unet", exploding, k=3), shapes)
    assert record.status == "failed"
    assert record.error.startswith("non-finite loss at epoch 1 step ")
    assert record.metrics == {} and record.test_metrics == {}


def _out_of_memory_in_epoch(epoch: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``train_one_epoch`` run out of memory on its ``epoch``-th call, as CUDA would."""
    calls = iter(range(1, 1000))
    real = run_one_module.train_one_epoch

    def flaky(*args, **kwargs):
        if next(calls) == epoch:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB\nmore details")
        return real(*args, **kwargs)

    monkeypatch.setattr(run_one_module, "train_one_epoch", flaky)


def test_out_of_memory_fails_the_run_with_its_epoch_and_the_way_out(shapes, monkeypatch) -> None:
    _out_of_memory_in_epoch(2, monkeypatch)
    record = run_one(make_job(shapes, "unet", tiny_unet(epochs=3), k=3), shapes)
    assert record.status == "failed" and record.metrics == {} and record.curves["epoch"] == [1]
    assert record.error.startswith("out of memory on cpu in epoch 2 (CUDA out of memory. Tried to allocate 2.00 GiB)")
    assert "--retry-failed" in record.error and "\n" not in record.error


def test_the_last_epoch_is_reported_not_the_best(shapes: LoadedDataset, monkeypatch: pytest.MonkeyPatch) -> None:
    def per_image(value: float) -> dict:
        return {"dice": np.full(8, value)}

    scripted = iter(
        [
            Evaluation({"loss": 0.1, "dice": 0.9, "iou": 0.8}, per_image(0.9)),
            Evaluation({"loss": 0.5, "dice": 0.4, "iou": 0.3, "hd95": 7.0}, per_image(0.4)),
        ]
    )
    monkeypatch.setattr(run_one_module, "evaluate_in_detail", lambda *args, **kwargs: next(scripted))
    record = run_one(make_job(shapes, "unet", tiny_unet(), k=3), shapes)
    assert record.metrics == {"dice": 0.4, "iou": 0.3, "hd95": 7.0}
    assert record.curves["val_dice"] == [0.9, 0.4]
    np.testing.assert_array_equal(record.per_sample.values["dice"], np.full(8, 0.4, dtype=np.float32))


def test_official_test_split_is_scored_once_at_the_end(
    shapes: LoadedDataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    scored: list[str] = []
    original = run_one_module._Trainer.evaluate

    def spy(trainer, data: LoadedDataset, indices: torch.Tensor, final: bool) -> Evaluation:
        scored.append(("test" if data.ids[0].startswith("test-") else "val") + (" final" if final else ""))
        return original(trainer, data, indices, final)

    monkeypatch.setattr(run_one_module._Trainer, "evaluate", spy)
    test = replace(subset(shapes, 6), ids=[f"test-{i}" for i in range(6)])
    with_test = replace(shapes, test=test)
    record = run_one(make_job(with_test, "unet", tiny_unet(epochs=2), k=3), with_test)
    assert scored == ["val", "val final", "test final"]
    assert set(record.test_metrics) == set(record.metrics) == {"dice", "iou", "hd95", "nsd"}
    assert all(0.0 <= value <= 1.0 for name, value in record.test_metrics.items() if name != "hd95")
    assert record.per_sample.ids[0] != "test-0"  # per-sample values are the validation fold's


def test_a_changed_split_is_refused(shapes: LoadedDataset) -> None:
    job = replace(make_job(shapes, "unet", tiny_unet(), k=3), manifest_hash="0" * 64)
    with pytest.raises(SuiteError, match="hash to .* not the job's 0000"):
        run_one(job, shapes)


def test_data_at_another_image_size_is_refused(shapes: LoadedDataset) -> None:
    job = make_job(shapes, "unet", tiny_unet(image_size=64), k=3)
    with pytest.raises(SuiteError, match="loaded at 32 px but the recipe trains at 64 px"):
        run_one(job, shapes)


def test_membrane_unet_returns_dice_and_iou_fractions(shared_data) -> None:
    data = subset(load_dataset("isbi2012-membrane", root=shared_data / "isbi2012-membrane", image_size=32), 6)
    record = run_one(make_job(data, "unet", tiny_unet(epochs=1, batch_size=2), k=3), data)
    assert record.status == "done" and (record.n_train, record.n_val) == (4, 2)
    assert 0.0 <= record.metrics["iou"] <= record.metrics["dice"] <= 1.0


@pytest.mark.slow
def test_resnet18_on_digits_beats_chance() -> None:
    data = subset(load_dataset("digits", image_size=8), 300)
    recipe = load_recipe("resnet18", "cls", "quick", {"epochs": 3, "batch_size": 16, "image_size": 8})
    record = run_one(make_job(data, "resnet18", recipe, k=5), data)
    assert record.status == "done" and set(record.metrics) == set(METRICS["cls"]) == {"accuracy", "macro_f1", "ece"}
    assert record.metrics["accuracy"] > 30.0  # chance is 10% on ten balanced classes
    assert 0.0 <= record.metrics["macro_f1"] <= 100.0 and 0.0 <= record.metrics["ece"] <= 100.0
    correct = record.per_sample.values["accuracy"]
    assert len(correct) == record.n_val and set(np.unique(correct)) <= {0.0, 100.0}
    assert correct.mean() == pytest.approx(record.metrics["accuracy"], rel=1e-6)


# ---- executor ------------------------------------------------------------------------------------


def _count_moves(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every ``LoadedDataset.to`` call: (device of the result, address of its image tensor)."""
    moves: list[tuple[str, int]] = []
    original = LoadedDataset.to

    def counted(self: LoadedDataset, device):
        moved = original(self, device)
        moves.append((str(moved.device), moved.images.data_ptr()))
        return moved

    monkeypatch.setattr(LoadedDataset, "to", counted)
    return moves


def test_local_executor_trains_every_job_on_cpu_without_copying_the_data(shapes, monkeypatch):
    moves = _count_moves(monkeypatch)
    jobs = [make_job(shapes, "unet", tiny_unet(epochs=1), k=3, fold=fold) for fold in range(2)]
    records = list(LocalExecutor().map(jobs, shapes))
    assert [r.fold for r in records] == [0, 1] and all(r.status == "done" for r in records)
    assert moves == []


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_local_executor_copies_the_data_to_the_gpu_once_per_grid(shapes, monkeypatch):
    moves = _count_moves(monkeypatch)
    recipe = tiny_unet(epochs=1)
    jobs = [replace(make_job(shapes, "unet", recipe, k=3, fold=fold), device="cuda") for fold in range(3)]
    records = list(LocalExecutor().map(jobs, shapes))
    assert all(r.status == "done" and r.device.startswith("cuda") for r in records)
    assert moves and all(device.startswith("cuda") for device, _ in moves)
    assert len({address for _, address in moves}) == 1  # one copy; later moves find the data there
