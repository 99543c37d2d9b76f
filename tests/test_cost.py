"""Cost measurement: exact params, GMACs against published figures, fused attention counted, labelled latency."""

from __future__ import annotations

import json
import time
import warnings

import pytest
import timm
import torch
import torch.nn.functional as F
from torch import nn

from suite.build import count_params
from suite.cost import Cost, count_gmacs, measure_cost, measure_latencies, measure_latency
from suite.device import resolve_device
from suite.errors import SuiteError

with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)
    from fvcore.nn import FlopCountAnalysis


pytestmark = pytest.mark.usefixtures("one_torch_thread")


# Published GMACs at 224 px, batch 1 (timm's model tables; fvcore convention, attention included).
PUBLISHED_GMACS = {
    "vit_small_patch16_224": 4.61,
    "vit_tiny_patch16_224": 1.26,
    "resnet50": 4.11,
}


@pytest.mark.parametrize("name", sorted(PUBLISHED_GMACS))
def test_gmacs_match_published_figures(name):
    model = timm.create_model(name, pretrained=False)
    counted = count_gmacs(model, (1, 3, 224, 224))
    assert counted.gmacs == pytest.approx(PUBLISHED_GMACS[name], rel=0.02)
    assert counted.input_shape == (1, 3, 224, 224)


def test_one_multiply_add_is_one_mac():
    conv = nn.Conv2d(3, 8, kernel_size=3, padding=1, bias=False)
    counted = count_gmacs(conv, (2, 3, 16, 16))
    assert counted.gmacs * 1e9 == pytest.approx(2 * 8 * 16 * 16 * 3 * 9)


class _Attention(nn.Module):
    """Fused attention with unequal query/key lengths and value width, to check the formula."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        query = x[..., :5, :8]  # (B, heads, 5, 8)
        key = x[..., :7, :8]  # (B, heads, 7, 8)
        value = x[..., :7, :4]  # (B, heads, 7, 4)
        return F.scaled_dot_product_attention(query, key, value)


def test_fused_attention_counts_qk_and_av_products():
    counted = count_gmacs(_Attention(), (2, 3, 7, 8))
    batch_heads, n_query, n_key, dim_qk, dim_v = 2 * 3, 5, 7, 8, 4
    expected = batch_heads * n_query * n_key * dim_qk + batch_heads * n_query * n_key * dim_v
    assert counted.gmacs * 1e9 == pytest.approx(expected)
    assert "aten::scaled_dot_product_attention" not in counted.unsupported


def test_vit_attention_adds_exactly_the_attention_matmuls_to_plain_fvcore():
    depth, heads, dim, patch, size = 2, 4, 32, 8, 32
    vit = timm.models.VisionTransformer(
        img_size=size, patch_size=patch, embed_dim=dim, depth=depth, num_heads=heads, num_classes=10
    ).eval()
    tokens = (size // patch) ** 2 + 1  # patches + class token
    attention_macs = depth * 2 * heads * tokens * tokens * (dim // heads)  # QK^T and AV per block
    plain = FlopCountAnalysis(vit, torch.zeros(1, 3, size, size))
    plain.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    counted = count_gmacs(vit, (1, 3, size, size))
    assert counted.gmacs * 1e9 - plain.total() == pytest.approx(attention_macs)


class _Gate(nn.Module):
    """Spatial mean (counted like adaptive_avg_pool2d) and an elementwise gate (left uncounted)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(x.mean((2, 3), keepdim=True))


def test_spatial_mean_counted_and_elementwise_ops_listed_as_unsupported():
    counted = count_gmacs(_Gate(), (1, 4, 8, 8))
    assert counted.gmacs * 1e9 == pytest.approx(4 * 8 * 8)
    assert counted.unsupported.get("aten::mul") == 1
    assert counted.unsupported.get("aten::sigmoid") == 1


def test_counting_keeps_training_mode():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)).train()
    count_gmacs(model, (1, 3, 8, 8))
    assert model.training


@pytest.mark.parametrize("name", ["resnet18", "vit_tiny_patch16_224"])
def test_params_exact(name):
    model = timm.create_model(name, pretrained=False)
    expected = sum(p.numel() for _, p in model.named_parameters())
    assert count_params(model) == expected


def test_shared_parameters_count_once():
    shared = nn.Linear(4, 4)
    assert count_params(nn.Sequential(shared, shared)) == 4 * 4 + 4


def test_latency_is_positive_and_labelled():
    model = nn.Conv2d(3, 4, 3).train()
    measured = measure_latency(model, (2, 3, 16, 16), "cpu", warmup=1, runs=5)
    assert measured.median_ms > 0 and measured.iqr_ms >= 0
    assert measured.batch_size == 2 and measured.runs == 5
    assert measured.device == "cpu" and measured.device_name and measured.dtype == "float32"
    assert measured.peak_mem_mib is None
    assert measured.images_per_s == pytest.approx(2000.0 / measured.median_ms)
    assert "batch 2" in str(measured) and measured.device_name in str(measured)
    assert model.training


def test_latency_time_budget_stops_early_after_three_runs():
    measured = measure_latency(nn.Conv2d(3, 4, 3), (1, 3, 8, 8), "cpu", warmup=0, runs=50, max_seconds=0.0)
    assert measured.runs == 3


class Sleeper(nn.Module):
    """A layer that takes ``seconds`` longer than nothing: a known latency to find again."""

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds = seconds

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        time.sleep(self.seconds)
        return x


def test_interleaved_latencies_keep_the_difference_between_models():
    fast, slow = nn.Conv2d(3, 4, 3).train(), nn.Sequential(nn.Conv2d(3, 4, 3), Sleeper(0.004)).train()
    measured = measure_latencies({"fast": fast, "slow": slow}, (1, 3, 8, 8), "cpu", warmup=1, runs=9)
    assert measured["fast"].runs == measured["slow"].runs == 9
    assert 3.5 < measured["slow"].median_ms - measured["fast"].median_ms < 20
    assert measured["slow"].batch_size == 1 and measured["slow"].dtype == "float32"
    assert fast.training and slow.training


def test_interleaved_latencies_share_one_time_budget():
    models = {name: nn.Sequential(Sleeper(0.002)) for name in ("a", "b", "c")}
    measured = measure_latencies(models, (1, 3, 4, 4), "cpu", warmup=0, runs=100, max_seconds=0.0)
    assert {latency.runs for latency in measured.values()} == {3}


def test_latency_in_another_dtype_leaves_the_model_alone():
    model = nn.Conv2d(3, 4, 3)
    measured = measure_latency(model, (1, 3, 8, 8), "cpu", warmup=0, runs=3, dtype=torch.bfloat16)
    assert measured.dtype == "bfloat16"
    assert model.weight.dtype == torch.float32


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_latency_reports_peak_memory_and_gpu_name():
    measured = measure_latency(nn.Conv2d(3, 4, 3), (4, 3, 32, 32), "cuda", warmup=1, runs=3)
    assert measured.peak_mem_mib is not None and measured.peak_mem_mib > 0
    assert measured.device_name == torch.cuda.get_device_name(0)


def test_device_resolution():
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(SuiteError, match="cpu, cuda, auto"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(SuiteError, match="--device cpu"):
            resolve_device("cuda")


def _smoke_build(name: str, spec: str | None = None):
    """``spec`` (default: the plain baseline) built at the baseline's registered tiny size."""
    from suite.baselines import BASELINES
    from suite.build import build_variant

    entry = BASELINES.entry(name)
    kwargs = dict(entry.meta["smoke"])
    size = kwargs.pop("image_size")
    task = entry.meta["tasks"][0]
    built = build_variant(spec or name, task, 10 if task == "cls" else 1, 3, size, **kwargs)
    return built, (1, 3, size, size)


def _baselines() -> list[str]:
    from suite.baselines import BASELINES

    return BASELINES.list()


@pytest.mark.slow
@pytest.mark.parametrize("name", _baselines())
def test_every_baseline_is_counted_with_no_attention_left_out(name):
    built, shape = _smoke_build(name)
    counted = count_gmacs(built.model, shape)
    assert counted.gmacs > 0
    assert not [op for op in counted.unsupported if "attention" in op or op in ("aten::bmm", "aten::matmul")]


def test_inserting_se_adds_exactly_the_se_modules_params_and_macs():
    from timm.layers import SEModule

    plain, shape = _smoke_build("resnet18")
    built, _ = _smoke_build("resnet18", "resnet18+se@blocks")
    cost = measure_cost(built, shape, latency=False, baseline=plain.model)
    se_modules = [m for m in built.model.modules() if isinstance(m, SEModule)]
    assert len(se_modules) == sum(len(built.model.slots(p.point)) for p in built.placements)
    assert cost.params_added == sum(count_params(m) for m in se_modules) == built.params_added
    assert cost.params == count_params(built.model)
    assert cost.baseline_params == count_params(plain.model)
    size = shape[-1]
    se_gmacs = 0.0
    for placement in built.placements:  # each SE module counted alone at its point's feature size
        side = size // placement.stride
        for slot in built.model.slots(placement.point):
            se = next(m for m in slot.modules() if isinstance(m, SEModule))
            se_gmacs += count_gmacs(se, (1, placement.channels, side, side)).gmacs
    assert cost.gmacs_added == pytest.approx(se_gmacs) and cost.gmacs_added > 0
    assert cost.unsupported["aten::mul"] == len(se_modules)  # the SE gates, elementwise


def test_profile_is_cached_and_serializable():
    built, shape = _smoke_build("unet")
    first = measure_cost(built, shape, latency=True, throughput_batch=2, runs=3)
    assert measure_cost(built, shape, latency=True, throughput_batch=2, runs=3) is first
    assert first.baseline_gmacs == first.gmacs and first.gmacs_added == 0  # a baseline is its own baseline
    assert first.latency.batch_size == 1 and first.throughput.batch_size == 2
    assert first.latency.runs == first.throughput.runs == 3
    payload = json.loads(json.dumps(first.to_dict()))
    assert payload["params"] == built.params and payload["input_shape"] == list(shape)
    assert payload["throughput"]["images_per_s"] == pytest.approx(first.throughput.images_per_s)
    assert payload["peak_mem_mib"] is None  # CPU


def test_gmacs_added_needs_the_baseline_as_a_model_or_a_cost():
    built, shape = _smoke_build("unet", "unet+se")
    cost = measure_cost(built, shape, latency=False)
    assert cost.baseline_gmacs is None and cost.gmacs_added is None
    assert cost.latency is None and cost.throughput is None
    assert cost.params_added == built.params_added > 0
    plain, _ = _smoke_build("unet")
    plain_cost = measure_cost(plain, shape, latency=False)
    assert isinstance(plain_cost, Cost)
    with_baseline = measure_cost(built, shape, latency=False, baseline=plain_cost)
    assert with_baseline.gmacs_added == pytest.approx(cost.gmacs - plain_cost.gmacs)
