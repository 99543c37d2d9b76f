"""The latency a module adds, measured so that a busy machine cannot pass noise off as cost.

Every spec is timed interleaved with its baseline (``suite.cost.interleaved_timings``), round by round.
Each model's latency is the 10th percentile of its passes: contention from other processes only ever
adds time, so, as ``timeit`` takes the minimum, a low percentile estimates the uncontended cost while
staying steadier than the minimum. The added latency is the difference of the two low percentiles, and
its spread the half-width of a 95% bootstrap interval over the paired rounds (resampled together). A
difference smaller than its spread is reported as unreliable, not as a cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from suite.cost import interleaved_timings

PERCENTILE = 10  # of the timed passes: resists load, steadier than the minimum
BOOTSTRAP = 2000  # resamples of the paired rounds
RUNS = 60  # interleaved rounds per measurement (fewer once MAX_SECONDS are spent)
MAX_SECONDS = 10.0


@dataclass(frozen=True)
class PairedLatency:
    """One model's latency next to its reference's, timed interleaved, in milliseconds at one batch size."""

    latency_ms: float  # PERCENTILE-th percentile of the model's passes
    reference_ms: float  # the same of the reference (baseline) passes
    spread_ms: float  # half-width of the bootstrap 95% interval of latency_ms - reference_ms
    rounds: int

    @property
    def added_ms(self) -> float:
        return self.latency_ms - self.reference_ms

    @property
    def reliable(self) -> bool:
        return self.spread_ms <= abs(self.added_ms)


def paired_difference(timings: np.ndarray, reference: np.ndarray, seed: int = 0) -> PairedLatency:
    """Low-percentile latency of ``timings`` and ``reference`` (seconds, one entry per round) and the
    bootstrap spread of their difference."""
    ms, ref = np.asarray(timings) * 1000.0, np.asarray(reference) * 1000.0
    rounds = np.random.default_rng(seed).integers(0, len(ms), size=(BOOTSTRAP, len(ms)))
    differences = np.percentile(ms[rounds], PERCENTILE, axis=1) - np.percentile(ref[rounds], PERCENTILE, axis=1)
    low, high = np.percentile(differences, [2.5, 97.5])
    return PairedLatency(
        float(np.percentile(ms, PERCENTILE)), float(np.percentile(ref, PERCENTILE)), float((high - low) / 2), len(ms)
    )


def paired_latencies(
    models: dict[str, nn.Module],
    references: dict[str, str],
    input_shape: tuple[int, ...],
    device: str | torch.device = "cpu",
    runs: int = RUNS,
    max_seconds: float = MAX_SECONDS,
) -> dict[str, PairedLatency]:
    """Time every model of ``models`` interleaved; each one's latency against ``references[name]`` (a key
    of ``models``; a baseline is its own reference, with zero added latency and zero spread)."""
    timings = interleaved_timings(models, input_shape, device, runs=runs, max_seconds=max_seconds)
    return {name: paired_difference(timings[name], timings[references[name]]) for name in models}
