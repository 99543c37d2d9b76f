"""Latency added under load: low percentiles of interleaved passes, a bootstrap spread, noise marked unreliable."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
from torch import nn

from suite.paired_latency import PairedLatency, paired_difference, paired_latencies


class Sleeper(nn.Module):
    """A forward pass that takes ``base`` seconds, and on a share ``busy`` of calls also ``stall`` more
    (another process taking the core), drawn from a seeded generator."""

    def __init__(self, base: float, busy: float = 0.0, stall: float = 0.0, seed: int = 0):
        super().__init__()
        self.base, self.busy, self.stall = base, busy, stall
        self.rng = np.random.default_rng(seed)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        time.sleep(self.base + (self.stall if self.rng.random() < self.busy else 0.0))
        return x


def test_contention_does_not_pass_as_cost():
    """Same true cost, but the variant's passes stall 3 ms on 40% of calls: the median would add ~1-3 ms."""
    models = {"base": Sleeper(0.002, busy=0.1, stall=0.003, seed=1), "variant": Sleeper(0.002, busy=0.4, stall=0.003, seed=2)}
    timed = paired_latencies(models, {"base": "base", "variant": "base"}, (1, 1), runs=60, max_seconds=5)
    variant = timed["variant"]
    assert abs(variant.added_ms) < 0.5  # the 10th percentile ignores the stalls
    assert timed["base"].added_ms == 0.0 and timed["base"].spread_ms == 0.0


def test_a_real_cost_is_measured_with_a_spread_that_excludes_zero():
    models = {"base": Sleeper(0.001), "variant": Sleeper(0.004)}
    variant = paired_latencies(models, {"base": "base", "variant": "base"}, (1, 1), runs=40, max_seconds=5)["variant"]
    assert variant.added_ms == pytest.approx(3.0, abs=0.6) and variant.reliable
    assert 0 < variant.spread_ms < variant.added_ms and variant.rounds == 40


def test_noise_wider_than_the_difference_is_unreliable():
    rng = np.random.default_rng(0)
    base = 0.010 + rng.exponential(0.004, size=30)
    variant = 0.0101 + rng.exponential(0.004, size=30)
    paired = paired_difference(variant, base)
    assert paired.spread_ms > abs(paired.added_ms) and not paired.reliable
    clear = paired_difference(base + 0.005, base)
    assert clear.added_ms == pytest.approx(5.0) and clear.reliable and clear.spread_ms < 0.5


def test_paired_latency_is_plain_data():
    latency = PairedLatency(3.0, 2.5, 0.1, 30)
    assert latency.added_ms == pytest.approx(0.5) and latency.reliable
