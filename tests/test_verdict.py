"""The verdict statistics: calibration under the null, power, labels, Holm, refusals, cost."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from _verdict_rows import CLS_DATASET, SEG_DATASET, effect_grid, runs_frame
from scipy import stats

from suite import _stats
from suite.errors import SuiteError
from suite.verdict import DEFAULT_DELTA, VERDICTS, compare

K = 5
RATIO = 1 / (K - 1)  # n_test / n_train of 5-fold CV


def simulate_null_cells(rng: np.random.Generator, n: int, k: int, repeats: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, k, r) baseline and variant cells with no true difference.

    Each fold has a difficulty both share; the variant's fold-level deviation is correlated across folds
    (overlapping training sets, rho = n_test / (n_test + n_train) = 1/k); each run adds seed noise.
    """
    rho = 1 / k
    difficulty = 90 + rng.normal(0, 1.0, size=(n, k, 1))
    shared = rng.normal(size=(n, 1, 1))
    fold_dev = 0.5 * (np.sqrt(rho) * shared + np.sqrt(1 - rho) * rng.normal(size=(n, k, 1)))
    baseline = difficulty + rng.normal(0, 0.3, size=(n, k, repeats))
    variant = difficulty + fold_dev + rng.normal(0, 0.3, size=(n, k, repeats))
    return baseline, variant


def labels_for(fold_gains: np.ndarray, delta: float) -> np.ndarray:
    """Verdicts of single-variant families (Holm is the identity) for (n, k) fold gains."""
    test = _stats.corrected_t_test(fold_gains, RATIO)
    won, lost = (fold_gains > 0).sum(-1), (fold_gains < 0).sum(-1)
    return _stats.classify(
        test.p_gain, test.p_worse, test.gain, test.interval(0.90), won, lost, fold_gains.shape[-1], delta
    )


@pytest.mark.parametrize("repeats", [1, 2, 3])
def test_null_data_rarely_holds(repeats, record_property):
    rng = np.random.default_rng(100 + repeats)
    n = 4000
    baseline, variant = simulate_null_cells(rng, n, K, repeats)
    fold_gains = (variant - baseline).mean(axis=-1)
    holds_default = float((labels_for(fold_gains, DEFAULT_DELTA["accuracy"]) == "holds").mean())
    holds_no_margin = float((labels_for(fold_gains, 1e-12) == "holds").mean())
    print(
        f"\nnull, k={K}, seeds={repeats}: 'holds' false-positive rate "
        f"{holds_default:.4f} (delta 0.5), {holds_no_margin:.4f} (delta ~0)"
    )
    record_property(f"false_positive_rate_seeds{repeats}", holds_default)
    record_property(f"false_positive_rate_no_margin_seeds{repeats}", holds_no_margin)
    assert holds_default <= 0.05
    # without a practical margin the test alone guards the rate: at most 5% up to Monte-Carlo error
    assert holds_no_margin <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / n)


def test_correction_is_calibrated_where_plain_t_is_not():
    """Equicorrelated fold differences (the Nadeau-Bengio model): corrected p is exact, plain t over-rejects."""
    rng = np.random.default_rng(7)
    n, rho = 20000, 1 / K
    d = np.sqrt(rho) * rng.normal(size=(n, 1)) + np.sqrt(1 - rho) * rng.normal(size=(n, K))
    corrected = (_stats.corrected_t_test(d, RATIO).p_gain < 0.05).mean()
    plain = (stats.ttest_1samp(d, 0, axis=-1, alternative="greater").pvalue < 0.05).mean()
    assert abs(corrected - 0.05) < 4 * np.sqrt(0.05 * 0.95 / n)
    assert plain > 0.08


def test_ci95_covers_the_true_gain():
    rng = np.random.default_rng(8)
    n, rho, true_gain = 20000, 1 / K, 0.7
    d = true_gain + np.sqrt(rho) * rng.normal(size=(n, 1)) + np.sqrt(1 - rho) * rng.normal(size=(n, K))
    low, high = _stats.corrected_t_test(d, RATIO).interval(0.95)
    coverage = ((low <= true_gain) & (true_gain <= high)).mean()
    assert abs(coverage - 0.95) < 4 * np.sqrt(0.05 * 0.95 / n)


def test_t_statistic_matches_independent_computations():
    rng = np.random.default_rng(3)
    for k in (3, 5, 10):
        d = rng.normal(0.3, 1.0, size=k)
        ratio = 1 / (k - 1)
        test = _stats.corrected_t_test(d, ratio)
        scaled = stats.ttest_1samp(d, 0).statistic * np.sqrt((1 / k) / (1 / k + ratio))
        by_hand = d.sum() / k / np.sqrt((1 / k + ratio) * ((d - d.sum() / k) ** 2).sum() / (k - 1))
        assert test.t == pytest.approx(scaled, rel=1e-12)
        assert test.t == pytest.approx(by_hand, rel=1e-12)
        assert test.p_gain == pytest.approx(stats.t.sf(by_hand, k - 1), rel=1e-12)
        assert test.p_gain + test.p_worse == pytest.approx(1.0)


def test_compare_uses_seed_averaged_fold_gains_and_row_sizes():
    rng = np.random.default_rng(4)
    baseline, variant = effect_grid(rng, 1.0, k=5, repeats=3)
    runs = runs_frame({"resnet18": baseline, "resnet18+se": variant}, n_train=300, n_val=60)
    (comp,) = compare(runs)
    fold_gains = (variant - baseline).mean(axis=1)
    assert comp.fold_gains == pytest.approx(fold_gains.tolist())
    assert comp.test_train_ratio == pytest.approx(60 / 300)
    expected = _stats.corrected_t_test(fold_gains, 60 / 300)
    assert comp.t == pytest.approx(float(expected.t))
    assert (comp.n_folds, comp.n_seeds, comp.df) == (5, 3, 4)
    assert comp.baseline_mean == pytest.approx(baseline.mean())
    assert comp.variant_sd == pytest.approx(variant.std(ddof=1))
    assert comp.ci95[0] < comp.ci90[0] < comp.gain < comp.ci90[1] < comp.ci95[1]
    assert comp.mde == pytest.approx((stats.t.ppf(0.95, 4) + stats.t.ppf(0.8, 4)) * comp.se)


@pytest.mark.parametrize("dataset, metric, scale", [(CLS_DATASET, "accuracy", 1.0), (SEG_DATASET, "dice", 0.01)])
def test_large_consistent_effects_hold_and_their_mirror_is_worse(dataset, metric, scale):
    rng = np.random.default_rng(5)
    baseline, better = effect_grid(rng, 3.0 * scale, base=80 * scale, noise=0.2 * scale, spread=scale)
    worse = baseline - 3.0 * scale + rng.normal(0, 0.2 * scale, size=baseline.shape)
    runs = runs_frame({"unet": baseline, "unet+se": better, "unet+cbam": worse}, dataset=dataset, metric=metric)
    verdicts = {c.variant: c for c in compare(runs)}
    assert verdicts["unet+se"].metric == metric
    assert verdicts["unet+se"].verdict == "holds"
    assert verdicts["unet+se"].folds_won == 5
    assert verdicts["unet+cbam"].verdict == "worse"
    assert verdicts["unet+cbam"].folds_lost == 5


def test_tiny_consistent_effect_with_enough_folds_is_no_practical_gain():
    rng = np.random.default_rng(6)
    baseline, variant = effect_grid(rng, 0.05, k=10, repeats=2, noise=0.05)
    (comp,) = compare(runs_frame({"resnet18": baseline, "resnet18+eca": variant}))
    assert comp.verdict == "no practical gain"
    assert -comp.delta < comp.ci90[0] and comp.ci90[1] < comp.delta


def test_noisy_small_effect_is_inconclusive_with_an_mde():
    rng = np.random.default_rng(9)
    baseline, variant = effect_grid(rng, 0.3, noise=1.5)
    (comp,) = compare(runs_frame({"resnet18": baseline, "resnet18+se": variant}))
    assert comp.verdict == "inconclusive"
    assert comp.reason is None and comp.mde > comp.delta


def test_aa_comparisons_do_not_hold():
    """Baseline against the same baseline re-seeded: same distribution, so no verdict of "holds"."""
    rng = np.random.default_rng(10)
    frames = []
    for replicate in range(100):
        fold_level = 90 + rng.normal(0, 1.0, size=(K, 1))
        first = fold_level + rng.normal(0, 0.3, size=(K, 2))
        reseeded = fold_level + rng.normal(0, 0.3, size=(K, 2))
        frames.append(runs_frame({"resnet18": first, "resnet18+reseeded": reseeded}, dataset=f"aa{replicate}"))
    verdicts = [c.verdict for c in compare(pd.concat(frames, ignore_index=True))]
    assert len(verdicts) == 100
    assert verdicts.count("holds") <= 5
    assert verdicts[0] != "holds"


def _holm_by_definition(p: np.ndarray) -> np.ndarray:
    order = np.argsort(p)
    m = len(p)
    adjusted = np.empty(m)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[index]))
        adjusted[index] = running
    return adjusted


def test_holm_never_makes_a_result_more_significant():
    rng = np.random.default_rng(11)
    for m in (1, 2, 5, 20):
        p = rng.uniform(0, 0.2, size=(200, m)) ** 2
        adjusted = _stats.holm(p)
        assert (adjusted >= p).all() and (adjusted <= 1).all()
        for row, raw in zip(adjusted, p):
            order = np.argsort(raw)
            assert (np.diff(row[order]) >= 0).all()
            np.testing.assert_allclose(row, _holm_by_definition(raw))
    single = rng.uniform(size=(10, 1))
    np.testing.assert_allclose(_stats.holm(single), single)


def test_more_variants_in_a_report_never_lower_adjusted_p():
    rng = np.random.default_rng(12)
    baseline, variant = effect_grid(rng, 1.0, noise=0.6)
    family = {"resnet18": baseline, "resnet18+se": variant}
    (alone,) = compare(runs_frame(family))
    for extra in ("cbam", "eca", "coord"):
        family[f"resnet18+{extra}"] = baseline + rng.normal(0.2, 0.6, size=baseline.shape)
    crowd = {c.variant: c for c in compare(runs_frame(family))}
    assert crowd["resnet18+se"].p == pytest.approx(alone.p)
    assert crowd["resnet18+se"].p_adjusted >= alone.p_adjusted
    assert all(c.p_adjusted >= c.p and c.p_worse_adjusted >= c.p_worse for c in crowd.values())


def _refused(runs: pd.DataFrame, variant: str = "resnet18+se"):
    (comp,) = [c for c in compare(runs) if c.variant == variant]
    assert comp.verdict == "inconclusive"
    assert comp.p is None and comp.p_adjusted is None and comp.ci95 is None and comp.gain is None
    return comp.reason


def test_too_few_folds_is_refused():
    rng = np.random.default_rng(13)
    baseline, variant = effect_grid(rng, 5.0, k=2, repeats=3)
    assert _refused(runs_frame({"resnet18": baseline, "resnet18+se": variant})).startswith("too few folds")


def test_unpaired_runs_are_refused():
    rng = np.random.default_rng(14)
    baseline, variant = effect_grid(rng, 5.0)
    other_split = pd.concat(
        [
            runs_frame({"resnet18": baseline}, manifest_hash="a" * 64),
            runs_frame({"resnet18+se": variant}, manifest_hash="b" * 64),
        ]
    )
    assert _refused(other_split).startswith("unpaired")
    other_recipe = pd.concat(
        [runs_frame({"resnet18": baseline}, recipe_hash="x" * 16), runs_frame({"resnet18+se": variant})]
    )
    assert _refused(other_recipe).startswith("unpaired")
    assert "no runs" in _refused(runs_frame({"resnet18+se": variant}))


def test_missing_and_failed_cells_are_refused():
    rng = np.random.default_rng(15)
    baseline, variant = effect_grid(rng, 5.0)
    runs = runs_frame({"resnet18": baseline, "resnet18+se": variant})
    missing_variant = runs[~((runs["spec"] == "resnet18+se") & (runs["fold"] == 3))]
    assert "fold 3" in _refused(missing_variant) and _refused(missing_variant).startswith("missing cells")
    missing_base = runs[~((runs["spec"] == "resnet18") & (runs["fold"] == 1) & (runs["seed"] == 0))]
    assert "resnet18 has no run for fold 1 seed 0" in _refused(missing_base)
    failed = runs.copy()
    broken = (failed["spec"] == "resnet18") & (failed["fold"] == 2) & (failed["seed"] == 1)
    failed.loc[broken, ["status", "error"]] = ["failed", "CUDA out of memory"]
    failed.loc[broken, "val_accuracy"] = np.nan
    reason = _refused(failed)
    assert "failed" in reason and "CUDA out of memory" in reason


def test_cost_is_reported_against_the_baseline():
    rng = np.random.default_rng(16)
    baseline, variant = effect_grid(rng, 1.0)
    cost = {"resnet18": (1_000_000, 1.8, 4.0), "resnet18+se": (1_050_000, 1.827, 5.0)}
    (comp,) = compare(runs_frame({"resnet18": baseline, "resnet18+se": variant}, cost=cost))
    assert (comp.params, comp.params_added) == (1_050_000, 50_000)
    assert comp.params_added_pct == pytest.approx(5.0)
    assert comp.gmacs_added == pytest.approx(0.027) and comp.gmacs_added_pct == pytest.approx(1.5)
    assert comp.latency_added_ms == pytest.approx(1.0) and comp.latency_added_pct == pytest.approx(25.0)
    assert comp.latency_device == "cpu"
    mixed = pd.concat(
        [
            runs_frame({"resnet18": baseline}, cost=cost, device="cpu"),
            runs_frame({"resnet18+se": variant}, cost=cost, device="cuda"),
        ]
    )
    (comp,) = compare(mixed)
    assert comp.latency_added_ms is None and comp.params_added == 50_000


def test_latency_added_is_the_paired_difference_where_runs_recorded_it():
    rng = np.random.default_rng(18)
    baseline, variant = effect_grid(rng, 1.0)
    cost = {"resnet18": (1_000_000, 1.8, 4.0), "resnet18+se": (1_050_000, 1.827, 5.0)}
    runs = runs_frame({"resnet18": baseline, "resnet18+se": variant}, cost=cost)
    (apart,) = compare(runs)
    assert not apart.latency_paired and apart.latency_added_ms == pytest.approx(1.0)
    # The variant's runs also timed the baseline, interleaved, at a busier moment: 6.0 against 5.6 ms.
    runs["baseline_latency_ms"] = np.where(runs["spec"] == "resnet18+se", 5.6, np.nan)
    runs.loc[runs["spec"] == "resnet18+se", "latency_ms"] = 6.0
    (paired,) = compare(runs)
    assert paired.latency_paired and paired.latency_ms == pytest.approx(6.0)
    assert paired.latency_added_ms == pytest.approx(0.4) and paired.latency_added_pct == pytest.approx(0.4 / 5.6 * 100)


def test_metric_inference_filters_and_errors():
    rng = np.random.default_rng(17)
    cls_base, cls_var = effect_grid(rng, 2.0)
    seg_base, seg_var = effect_grid(rng, 0.05, base=0.8, noise=0.005, spread=0.02)
    runs = pd.concat(
        [
            runs_frame({"resnet18": cls_base, "resnet18+se": cls_var}),
            runs_frame({"unet": seg_base, "unet+se": seg_var}, dataset=SEG_DATASET, metric="dice"),
        ],
        ignore_index=True,
    )
    by_dataset = {c.dataset: c for c in compare(runs)}
    assert by_dataset[CLS_DATASET].metric == "accuracy" and by_dataset[CLS_DATASET].delta == DEFAULT_DELTA["accuracy"]
    assert by_dataset[SEG_DATASET].metric == "dice" and by_dataset[SEG_DATASET].delta == DEFAULT_DELTA["dice"]
    assert [c.dataset for c in compare(runs, metric="dice")] == [SEG_DATASET]
    assert [c.variant for c in compare(runs, baseline="unet")] == ["unet+se"]
    assert compare(runs, dataset=SEG_DATASET, delta=0.2)[0].delta == 0.2
    with pytest.raises(SuiteError, match="metrics in the store: accuracy, dice"):
        compare(runs, metric="iou")
    with pytest.raises(SuiteError, match=f"datasets in the store: {CLS_DATASET}, {SEG_DATASET}"):
        compare(runs, dataset="cifar10")
    with pytest.raises(SuiteError, match="baselines with variants: resnet18, unet"):
        compare(runs, baseline="vit_tiny")
    with pytest.raises(SuiteError, match="--metric or --dataset"):
        compare(runs, delta=0.1)
    with pytest.raises(SuiteError, match="positive"):
        compare(runs, dataset=CLS_DATASET, delta=-1)
    assert compare(runs.iloc[:0]) == []


def test_labels_are_the_documented_ones_and_dicts_are_json():
    rng = np.random.default_rng(18)
    baseline, variant = effect_grid(rng, 2.0)
    comps = compare(runs_frame({"resnet18": baseline, "resnet18+se": variant, "resnet18+cbam": variant[:2]}))
    assert set(VERDICTS) == {"holds", "inconclusive", "no practical gain", "worse"}
    assert {c.verdict for c in comps} <= set(VERDICTS)
    for comp in comps:
        data = json.loads(json.dumps(comp.to_dict(), allow_nan=False))
        assert data["variant"] == comp.variant and data["unit"] == "%"
