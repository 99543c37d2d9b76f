"""Per-sample values: kept compactly, paired image by image with the baseline, oriented by the metric's
direction, and summarized as percentiles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from suite.per_sample import PERCENTILES, PerSample, decode_ids, encode_ids, paired, summarize


def runs(spec: str, cells: dict[tuple[int, int], PerSample]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"spec": spec, "fold": fold, "seed": seed, "per_sample": values} for (fold, seed), values in cells.items()]
    )


def test_values_round_trip_through_bytes_and_ids_through_their_digest():
    values = PerSample([f"img-{i}" for i in range(50)], {"dice": np.linspace(0, 1, 50), "hd95": np.arange(50.0)})
    again = PerSample.decode(decode_ids(encode_ids(values.ids)), values.encode_values())
    assert again == values and again.values["dice"].dtype == np.float32
    assert PerSample(list(values.ids), {}).digest == values.digest != PerSample(values.ids[1:], {}).digest


def test_a_value_count_that_is_not_the_id_count_is_refused():
    with pytest.raises(ValueError, match="3 values for 2 sample ids"):
        PerSample(["a", "b"], {"dice": [0.1, 0.2, 0.3]})


@pytest.mark.parametrize("metric, higher_is_better", [("dice", True), ("hd95", False)])
def test_pairs_are_the_same_images_seeds_averaged_and_gains_oriented(metric: str, higher_is_better: bool):
    ids = ["a", "b", "c"]
    baseline = runs("unet", {(0, 0): PerSample(ids, {metric: [1.0, 2.0, 3.0]}), (0, 1): PerSample(ids, {metric: [3.0, 2.0, 1.0]})})
    variant = runs(
        "unet+se",
        {
            (0, 0): PerSample(["c", "a", "b"], {metric: [5.0, 1.5, 2.5]}),  # another order: paired by id, not position
            (0, 1): PerSample(["a", "b", "d"], {metric: [2.5, 1.5, 9.0]}),  # "d": no baseline value, left out
        },
    )
    pairs = paired(baseline, variant, metric).set_index("id")
    assert list(pairs.index) == ["a", "b", "c"]
    assert pairs.loc["a", "baseline"] == 2.0 and pairs.loc["a", "variant"] == 2.0  # (1+3)/2 and (1.5+2.5)/2
    assert pairs.loc["b", "variant"] == 2.0 and pairs.loc["c", "variant"] == 5.0  # c: only seed 0 pairs
    sign = 1.0 if higher_is_better else -1.0
    assert pairs.loc["c", "gain"] == sign * (5.0 - 3.0)  # a lower HD95 is a positive gain


def test_summary_percentiles_and_counts():
    rng = np.random.default_rng(0)
    ids = [str(i) for i in range(200)]
    base = rng.uniform(0.5, 0.9, 200)
    gain = np.where(np.arange(200) < 150, 0.05, -0.02)
    gain[:10] = 0.0
    pairs = paired(runs("unet", {(0, 0): PerSample(ids, {"dice": base})}), runs("unet+se", {(0, 0): PerSample(ids, {"dice": base + gain})}), "dice")
    summary = summarize(pairs)
    assert (summary.images, summary.better, summary.worse, summary.tied) == (200, 140, 50, 10)
    expected = np.percentile(base.astype(np.float32), PERCENTILES)
    assert summary.baseline == pytest.approx(tuple(expected), rel=1e-6)
    assert summary.gain[-1] == pytest.approx(0.05, abs=1e-6) and summary.gain[0] == pytest.approx(-0.02, abs=1e-6)
    assert summary.to_dict()["values"]["variant"]["p50"] == summary.variant[2]


def test_runs_without_per_sample_values_pair_nothing():
    assert summarize(paired(runs("unet", {(0, 0): None}), runs("unet+se", {(0, 0): None}), "dice")) is None
