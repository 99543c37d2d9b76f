"""The memory estimate behind the pre-flight refusal: close to what autograd really keeps, exact for the
weights, and a grid that cannot fit is refused before any data is read, naming the estimate."""

from __future__ import annotations

import pytest
import torch

from suite.baselines import BASELINES
from suite.build import build_variant
from suite.errors import SuiteError
from suite.grid import GridRequest, resolve
from suite.memory import OPTIMIZER_STATES, MemoryNeed, check_fits, host_available, inference_need, training_need
from suite.recipe import Recipe

pytestmark = pytest.mark.usefixtures("one_torch_thread")
BATCH = 4


def _saved_for_backward(model: torch.nn.Module, images: torch.Tensor) -> int:
    """Bytes of the tensors autograd saves in one real training forward pass (parameters excluded)."""
    params = {p.data_ptr() for p in model.parameters()}
    saved: dict[tuple, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        if tensor.data_ptr() not in params:
            saved[(tensor.data_ptr(), tuple(tensor.shape))] = tensor.numel() * tensor.element_size()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        model.train()(images)
    return sum(saved.values())


def _cases() -> list:
    cases = []
    for entry in BASELINES.entries():
        catalog = entry.meta["catalog"]
        point = next(p for p in catalog.names if "attention" in catalog.kinds[p])
        cases += [pytest.param(entry.name, id=entry.name), pytest.param(f"{entry.name}+se@{point}", id=f"{entry.name}+se")]
    return cases


@pytest.mark.parametrize("spec", _cases())
def test_estimate_tracks_what_autograd_keeps_and_counts_the_weights_exactly(spec: str) -> None:
    baseline = spec.split("+")[0]
    entry = BASELINES.entry(baseline)
    smoke = dict(entry.meta["smoke"])
    size, task = smoke.pop("image_size"), entry.meta["tasks"][0]
    real = build_variant(spec, task, 10, 3, size, **smoke)
    with torch.device("meta"):
        meta = build_variant(spec, task, 10, 3, size, **smoke).model
    for optimizer in OPTIMIZER_STATES:
        recipe = Recipe(image_size=size, batch_size=BATCH, eval_batch_size=BATCH, optimizer=optimizer)
        need = training_need(meta, recipe, 3, 100, task, "cpu")
        assert need.weights == real.params * 4 * (2 + OPTIMIZER_STATES[optimizer])
    saved = _saved_for_backward(real.model, torch.randn(BATCH, 3, size, size))
    assert 0.75 * saved <= need.activations <= 1.25 * saved
    assert need.data == 100 * size * size * (3 + (task == "seg"))


def test_inference_needs_the_input_the_weights_and_the_largest_outputs() -> None:
    real = build_variant("unet", "seg", 1, 3, 32, width=4)
    with torch.device("meta"):
        meta = build_variant("unet", "seg", 1, 3, 32, width=4).model
    need = inference_need(meta, (8, 3, 32, 32))
    assert (need.data, need.weights) == (8 * 3 * 32 * 32 * 4, real.params * 4)
    assert 8 * 4 * 32 * 32 * 4 <= need.activations <= 8 * 2 * 64 * 32 * 32 * 4  # two full-size maps, width 4 .. 64
    assert need.describe().startswith(f"{need.total / 2**20:,.0f} MiB (input ")


def test_batches_larger_than_the_data_count_as_the_whole_data() -> None:
    with torch.device("meta"):
        model = build_variant("resnet18", "cls", 10, 1, 8, width=4).model
    small, huge = (Recipe(image_size=8, batch_size=b, eval_batch_size=b) for b in (50, 10**9))
    assert training_need(model, small, 1, 50, "cls", "cpu") == training_need(model, huge, 1, 50, "cls", "cpu")


def test_a_run_that_cannot_fit_is_refused_with_the_estimate() -> None:
    need = MemoryNeed(data=2**30, weights=3 * 2**30, activations=host_available())
    with pytest.raises(SuiteError) as err:
        check_fits("unet+se", need, "cpu", "to train at 64 px, batch 32")
    message = str(err.value)
    assert message.startswith("unet+se needs at least") and "data 1.0 GiB" in message and "64 px, batch 32" in message
    assert "--batch-size" in message and "\n" not in message
    check_fits("unet+se", MemoryNeed(2**20, 2**20, 2**20), "cpu", "to train at 64 px, batch 32")


@pytest.mark.parametrize(
    ("variant", "overrides"),
    [("resnet18+se(rd_ratio=100000.0)", {}), ("resnet18+se", {"image_size": 16_000}), ("resnet18+se", {"model.width": 10**6})],
    ids=["huge-rd_ratio", "huge-image", "huge-width"],
)
def test_grids_beyond_this_machine_are_refused_before_data_is_read(variant: str, overrides: dict) -> None:
    request = GridRequest([variant], dataset="digits", folds=3, overrides=overrides)
    with pytest.raises(SuiteError, match=r"needs at least [\d,.]+ GiB .* but this machine has [\d,.]+ [GM]iB free"):
        resolve(request)


def test_host_memory_is_a_positive_number_of_bytes_below_the_physical_memory() -> None:
    import os

    assert 0 < host_available() <= os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _placements() -> list:
    """Every module at the first point of every baseline that takes its kind."""
    from suite.modules import MODULES

    cases = []
    for entry in BASELINES.entries():
        catalog = entry.meta["catalog"]
        for module in MODULES.list():
            kind = MODULES.entry(module).meta["kind"]
            points = [p for p in catalog.names if kind in catalog.kinds[p]]
            if points:
                cases.append(pytest.param(entry.name, f"{entry.name}+{module}@{points[0]}", id=f"{entry.name}+{module}"))
    return cases


@pytest.mark.parametrize(("baseline", "spec"), _placements())
def test_every_module_is_estimated_on_the_meta_device(baseline: str, spec: str) -> None:
    """The pre-flight check builds every spec on the meta device: each module builds there, and its
    estimate is made (without activations where a step has no meta kernel)."""
    entry = BASELINES.entry(baseline)
    smoke = dict(entry.meta["smoke"])
    size, task = smoke.pop("image_size"), entry.meta["tasks"][0]
    with torch.device("meta"):
        model = build_variant(spec, task, 10, 3, size, **smoke).model
    recipe = Recipe(image_size=size, batch_size=BATCH, eval_batch_size=BATCH)
    need = training_need(model, recipe, 3, 100, task, "cpu")
    assert need.weights > 0 and need.activations >= 0 and need.data == 100 * size * size * (3 + (task == "seg"))
