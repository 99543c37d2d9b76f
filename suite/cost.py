"""Cost of a network as built: exact parameters, GMACs, latency, throughput and peak memory.

- Parameters: every element of every parameter, shared ones once.
- GMACs: fvcore's count (one fused multiply-add = 1 MAC) with fused attention counted too
  (``suite._flops``); ops left uncounted are listed by name with their number of calls.
- Element-wise ops: the multiplies, additions, gates and softmaxes that GMACs leave out, counted apart
  in millions (one per output element of each pointwise op), so an attention gate's cost is visible.
- Latency: warm-up passes, then the median and interquartile range of timed forward passes under
  ``inference_mode``, synchronized on CUDA; every figure carries its batch size, device name and dtype.
- Peak memory: ``torch.cuda.max_memory_allocated`` over warm-up and timed passes (weights included);
  None on CPU.

``measure_cost`` measures a ``BuiltVariant`` once per (spec, build, input shape, device).
"""

from __future__ import annotations

import copy
import time
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch
from torch import nn

from suite import _flops
from suite.build import BuiltVariant
from suite.device import device_name, resolve_device

# Batch size of the throughput measurement when none is given, per device type.
DEFAULT_THROUGHPUT_BATCH = {"cpu": 8, "cuda": 64}


@dataclass(frozen=True)
class MacCount:
    """Multiply-accumulates of one forward pass at ``input_shape`` (batch included)."""

    gmacs: float  # 1e9 fused multiply-adds
    input_shape: tuple[int, ...]
    by_operator: dict[str, float]  # GMACs per counted operator kind (conv, linear, ...)
    unsupported: dict[str, int]  # uncounted op -> number of calls (elementwise ops, max pooling, ...)
    elementwise: dict[str, int]  # pointwise op (mul, add, sigmoid, softmax, ...) -> output elements; not in gmacs

    @property
    def elementwise_mops(self) -> float:
        """Element-wise ops in millions (one per output element of each pointwise op), not in ``gmacs``."""
        return sum(self.elementwise.values()) / 1e6


def count_gmacs(model: nn.Module, input_shape: tuple[int, ...]) -> MacCount:
    """GMACs of ``model`` on a zero tensor of ``input_shape`` (N, C, H, W), traced with fvcore, and the
    element-wise ops fvcore leaves out, counted on one more forward pass."""
    example = torch.zeros(input_shape, device=_model_device(model), dtype=_model_dtype(model))
    analysis = _flops.analyse(model, example)
    return MacCount(
        gmacs=analysis.total() / 1e9,
        input_shape=tuple(input_shape),
        by_operator={op: macs / 1e9 for op, macs in _flops.operator_macs(analysis).items()},
        unsupported=_flops.unsupported_ops(analysis),
        elementwise=_flops.elementwise_ops(model, example),
    )


@dataclass(frozen=True)
class Latency:
    """Forward-pass time at one batch size on one device, with the labels that make it comparable."""

    median_ms: float  # median wall time of one forward pass of the whole batch, milliseconds
    iqr_ms: float  # interquartile range of the same timings, milliseconds
    batch_size: int
    device: str  # torch device, e.g. "cpu" or "cuda:0"
    device_name: str  # e.g. "NVIDIA H100 80GB HBM3" or "AMD EPYC (2 threads)"
    dtype: str  # e.g. "float32"
    runs: int  # timed passes (after warm-up)
    peak_mem_mib: float | None  # CUDA: peak MiB allocated during the passes, weights included; CPU: None

    @property
    def images_per_s(self) -> float:
        return self.batch_size * 1000.0 / self.median_ms

    def __str__(self) -> str:
        return (
            f"{self.median_ms:.2f} ms (IQR {self.iqr_ms:.2f}) at batch {self.batch_size}, "
            f"{self.dtype}, {self.device_name}"
        )


def measure_latency(
    model: nn.Module,
    input_shape: tuple[int, ...],
    device: str | torch.device = "cpu",
    warmup: int = 5,
    runs: int = 30,
    dtype: torch.dtype = torch.float32,
    max_seconds: float = 5.0,
) -> Latency:
    """Median and IQR of ``runs`` timed forward passes on a random batch of ``input_shape``.

    Warm-up and timing each stop early once they have spent ``max_seconds`` (after at least one
    warm-up pass and three timed passes); ``Latency.runs`` says how many were timed. The model is
    copied when it must change device or dtype, and its train/eval mode is restored afterwards.
    """
    if runs < 1:
        raise ValueError(f"runs must be at least 1, got {runs}")
    device = resolve_device(device)
    on_device = _placed(model, device, dtype)
    batch = torch.randn(input_shape, device=device, dtype=dtype)
    was_training = on_device.training
    on_device.eval()
    try:
        if device.type == "cuda":
            torch.cuda.synchronize(device)
            torch.cuda.reset_peak_memory_stats(device)
        with torch.inference_mode():
            _timed_passes(on_device, batch, device, warmup, min(warmup, 1), max_seconds)
            timings = _timed_passes(on_device, batch, device, runs, min(runs, 3), max_seconds)
        peak = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None
    finally:
        on_device.train(was_training)
    return _latency(timings, input_shape, device, dtype, peak)


def interleaved_timings(
    models: dict[str, nn.Module],
    input_shape: tuple[int, ...],
    device: str | torch.device = "cpu",
    warmup: int = 5,
    runs: int = 30,
    max_seconds: float = 10.0,
) -> dict[str, np.ndarray]:
    """Seconds per forward pass of each model, their passes interleaved round by round (float32).

    Each round times one forward pass of every model, in an order that rotates from round to round, so
    a change of machine load or clock during the measurement reaches every model alike and the
    differences between them stay paired: element i of every array is round i. Rounds stop at
    ``runs``, or once ``max_seconds`` are spent (after at least three).
    """
    if runs < 1:
        raise ValueError(f"runs must be at least 1, got {runs}")
    device = resolve_device(device)
    names = list(models)
    placed = {name: _placed(models[name], device, torch.float32) for name in names}
    modes = {name: model.training for name, model in placed.items()}
    batch = torch.randn(input_shape, device=device)
    timings: dict[str, list[float]] = {name: [] for name in names}
    try:
        with torch.inference_mode():
            for model in placed.values():
                model.eval()
                _timed_passes(model, batch, device, warmup, min(warmup, 1), max_seconds / (2 * len(names)))
            spent, rounds = 0.0, 0
            while rounds < runs and (rounds < 3 or spent < max_seconds):
                for name in names[rounds % len(names) :] + names[: rounds % len(names)]:
                    (seconds,) = _timed_passes(placed[name], batch, device, 1, 1, 0.0)
                    timings[name].append(seconds)
                    spent += seconds
                rounds += 1
    finally:
        for name, model in placed.items():
            model.train(modes[name])
    return {name: np.asarray(values) for name, values in timings.items()}


def measure_latencies(
    models: dict[str, nn.Module],
    input_shape: tuple[int, ...],
    device: str | torch.device = "cpu",
    warmup: int = 5,
    runs: int = 30,
    max_seconds: float = 10.0,
) -> dict[str, Latency]:
    """``measure_latency`` for several models at once, timed interleaved (``interleaved_timings``);
    float32, peak memory not recorded."""
    device = resolve_device(device)
    timings = interleaved_timings(models, input_shape, device, warmup, runs, max_seconds)
    return {name: _latency(list(values), input_shape, device, torch.float32, None) for name, values in timings.items()}


def _latency(
    timings: list[float], input_shape: tuple[int, ...], device: torch.device, dtype: torch.dtype, peak: float | None
) -> Latency:
    milliseconds = np.asarray(timings) * 1000.0
    q1, median, q3 = np.percentile(milliseconds, [25, 50, 75])
    return Latency(
        median_ms=float(median),
        iqr_ms=float(q3 - q1),
        batch_size=int(input_shape[0]),
        device=str(device),
        device_name=device_name(device),
        dtype=str(dtype).removeprefix("torch."),
        runs=len(timings),
        peak_mem_mib=peak,
    )


def _timed_passes(
    model: nn.Module, batch: torch.Tensor, device: torch.device, count: int, minimum: int, max_seconds: float
) -> list[float]:
    """Seconds per synchronized forward pass: ``count`` passes, or fewer (not under ``minimum``) once
    ``max_seconds`` are spent."""
    _synchronize(device)
    timings: list[float] = []
    while len(timings) < count and (len(timings) < minimum or sum(timings) < max_seconds):
        start = time.perf_counter()
        model(batch)
        _synchronize(device)
        timings.append(time.perf_counter() - start)
    return timings


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _model_device(model: nn.Module) -> torch.device:
    first = next(model.parameters(), None)
    return first.device if first is not None else torch.device("cpu")


def _model_dtype(model: nn.Module) -> torch.dtype:
    first = next(model.parameters(), None)
    return first.dtype if first is not None else torch.float32


def _placed(model: nn.Module, device: torch.device, dtype: torch.dtype) -> nn.Module:
    """``model`` itself when already on ``device`` in ``dtype``, else a moved copy."""
    current = _model_device(model)
    same_device = current.type == device.type and (device.index is None or current.index == device.index)
    if same_device and _model_dtype(model) == dtype:
        return model
    return copy.deepcopy(model).to(device=device, dtype=dtype)


@dataclass(frozen=True)
class Cost:
    """Cost of one variant as built, and of its baseline where known, at one input shape on one device."""

    spec: str  # canonical spec
    input_shape: tuple[int, ...]  # (N, C, H, W) of the GMACs count and the latency measurement
    params: int
    baseline_params: int
    gmacs: float  # at input_shape
    baseline_gmacs: float | None  # None when no baseline was given for a variant
    unsupported: dict[str, int]  # ops fvcore left uncounted -> calls
    elementwise_mops: float  # millions of element-wise ops at input_shape (not in gmacs)
    baseline_elementwise_mops: float | None  # None when no baseline was given for a variant
    latency: Latency | None  # at the batch of input_shape; None when not measured
    throughput: Latency | None  # at a larger batch; None when not measured

    @property
    def params_added(self) -> int:
        return self.params - self.baseline_params

    @property
    def params_added_pct(self) -> float:
        return 100.0 * self.params_added / self.baseline_params if self.baseline_params else 0.0

    @property
    def gmacs_added(self) -> float | None:
        return None if self.baseline_gmacs is None else self.gmacs - self.baseline_gmacs

    @property
    def elementwise_mops_added(self) -> float | None:
        if self.baseline_elementwise_mops is None:
            return None
        return self.elementwise_mops - self.baseline_elementwise_mops

    @property
    def peak_mem_mib(self) -> float | None:
        """Largest CUDA peak over the measurements (the throughput batch, normally); None on CPU."""
        peaks = [m.peak_mem_mib for m in (self.latency, self.throughput) if m and m.peak_mem_mib is not None]
        return max(peaks) if peaks else None

    def to_dict(self) -> dict:
        """JSON-ready: every field plus the derived ones, latencies with ``images_per_s``."""
        out = asdict(self)
        out["input_shape"] = list(self.input_shape)
        for name in ("latency", "throughput"):
            measured = getattr(self, name)
            if measured is not None:
                out[name]["images_per_s"] = measured.images_per_s
        out.update(
            params_added=self.params_added,
            params_added_pct=self.params_added_pct,
            gmacs_added=self.gmacs_added,
            elementwise_mops_added=self.elementwise_mops_added,
            peak_mem_mib=self.peak_mem_mib,
        )
        return out


_COSTS: dict[tuple, Cost] = {}


def measure_cost(
    built: BuiltVariant,
    input_shape: tuple[int, ...],
    device: str | torch.device = "cpu",
    latency: bool = True,
    throughput_batch: int | None = None,
    baseline: nn.Module | Cost | None = None,
    dtype: torch.dtype = torch.float32,
    runs: int = 30,
) -> Cost:
    """Params, GMACs, latency and throughput of ``built`` at ``input_shape`` (N, C, H, W) on ``device``.

    ``baseline``: the plain baseline network (or its ``Cost``) at the same build arguments, for
    ``gmacs_added``; a spec without insertions is its own baseline. ``throughput_batch``: batch of the
    throughput measurement (default per device type: ``DEFAULT_THROUGHPUT_BATCH``; 0 skips it).
    ``runs``: timed passes per latency measurement (fewer when they exceed ``measure_latency``'s budget).
    Results are cached per (spec key, build, input shape, device, dtype, what was timed); a cached cost
    without baseline GMACs gains them when a later call brings the baseline.
    """
    device = resolve_device(device)
    if throughput_batch is None:
        throughput_batch = DEFAULT_THROUGHPUT_BATCH[device.type]
    input_shape = tuple(int(n) for n in input_shape)
    # params and baseline_params stand in for the build arguments (width, classes) the key omits.
    measured = (throughput_batch, runs) if latency else None
    cache_key = (built.key, built.params, built.baseline_params, input_shape, str(device), str(dtype), measured)
    cost = _COSTS.get(cache_key)
    if cost is None:
        cost = _measure(built, input_shape, device, dtype, measured)
    if cost.baseline_gmacs is None and baseline is not None:
        if isinstance(baseline, Cost):
            counted = (baseline.gmacs, baseline.elementwise_mops)
        else:
            macs = count_gmacs(baseline, input_shape)
            counted = (macs.gmacs, macs.elementwise_mops)
        cost = replace(cost, baseline_gmacs=counted[0], baseline_elementwise_mops=counted[1])
    _COSTS[cache_key] = cost
    return cost


def _measure(
    built: BuiltVariant,
    input_shape: tuple[int, ...],
    device: torch.device,
    dtype: torch.dtype,
    measured: tuple[int, int] | None,
) -> Cost:
    """Count and time ``built`` (``measured``: (throughput batch, runs), or None for no timing)."""
    macs = count_gmacs(built.model, input_shape)
    batch_latency = throughput = None
    if measured:
        throughput_batch, runs = measured
        batch_latency = measure_latency(built.model, input_shape, device, runs=runs, dtype=dtype)
        if throughput_batch:
            throughput_shape = (throughput_batch, *input_shape[1:])
            throughput = measure_latency(built.model, throughput_shape, device, runs=runs, dtype=dtype)
    return Cost(
        spec=built.key,
        input_shape=input_shape,
        params=built.params,
        baseline_params=built.baseline_params,
        gmacs=macs.gmacs,
        baseline_gmacs=macs.gmacs if built.spec.is_baseline else None,
        unsupported=macs.unsupported,
        elementwise_mops=macs.elementwise_mops,
        baseline_elementwise_mops=macs.elementwise_mops if built.spec.is_baseline else None,
        latency=batch_latency,
        throughput=throughput,
    )
