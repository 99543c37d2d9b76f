"""Ablations: subsets and their reuse, the effects against a hand computation, a planted interaction found,
and the false "synergy holds" rate on simulated no-interaction data (printed: ``pytest -rA -k synergy``)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from _study_fixtures import ABLATION, ablation_request, noisy, write_study
from suite.errors import SuiteError
from suite.reports.model import build_report
from suite.spec import canonical, key
from suite.store import read_runs
from suite.studies.ablation import INTERACTION, LEAVE_ONE_OUT, MAIN, contrasts, factors_of, subset_specs
from suite.studies.effects import classify_effects, effect_statistics
from suite.studies.plan import describe_size, plan_study
from suite.verdict import compare
from suite.verdict_names import HOLDS, HOLDS_BEYOND_DELTA

HOLDING = (HOLDS, HOLDS_BEYOND_DELTA)
A, B = key("unet+se@enc1"), key("unet+cbam@dec1")
AB = key(ABLATION)


@pytest.mark.parametrize("count", [2, 3, 4])
def test_every_subset_once_the_empty_one_being_the_baseline(count):
    modules = ["se@enc1", "cbam@dec1", "eca@dec2", "coord@enc2"][:count]
    baseline, factors = factors_of("unet+" + "+".join(modules))
    specs = subset_specs(baseline, factors)
    assert len(specs) == 2**count == len(set(specs)) and specs[0] == "unet"
    for mask, spec in enumerate(specs):  # bit i on = factor i in the subset
        expected = [m for i, m in enumerate(modules) if mask >> i & 1]
        assert spec == (str(canonical("unet+" + "+".join(expected))) if expected else "unet")
    assert [f.label for f in factors] == modules


@pytest.mark.parametrize("spec, words", [("unet+se", "2 to 4"), ("unet+se@enc1+eca@enc2+cbam@enc3+sa@dec1+ge@dec2", "at most 4")])
def test_too_few_or_too_many_insertions_are_refused_in_one_line(spec, words):
    with pytest.raises(SuiteError, match=words) as err:
        factors_of(spec)
    assert "\n" not in str(err.value)


def test_contrast_weights_are_the_textbook_ones():
    main_a, main_b, interaction, drop_a, drop_b = contrasts(2)
    y = np.array([1.0, 3.0, 4.0, 10.0])  # none, a, b, ab
    assert main_a.weights @ y == pytest.approx(((y[1] + y[3]) - (y[0] + y[2])) / 2)
    assert interaction.weights @ y == pytest.approx((y[3] - y[1]) - (y[2] - y[0]))
    assert drop_a.weights @ y == pytest.approx(y[3] - y[2]) and drop_b.weights @ y == pytest.approx(y[3] - y[1])
    found = contrasts(3)
    assert [c.kind for c in found] == [MAIN] * 3 + [INTERACTION] * 3 + [LEAVE_ONE_OUT] * 3
    for contrast in found[:6]:  # main effects and interactions are balanced contrasts
        assert sum(contrast.weights) == pytest.approx(0) and sum(map(abs, contrast.weights)) == pytest.approx(2 if contrast.kind == MAIN else 4)


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """An ablation whose two modules each gain and gain more together (a real synergy of 0.04 Dice)."""
    effects = {A: 0.02, B: 0.015, AB: 0.02 + 0.015 + 0.04}
    path = tmp_path_factory.mktemp("ablation") / "suite.db"
    planned = write_study(path, ablation_request(), noisy(effects, noise=0.002, seed=3))
    return path, planned


def _effects(path, planned):
    report = build_report(read_runs(path, status=None), study=planned.study)
    (table,) = report.study.effects
    return report, {(e.kind, tuple(e.factors)): e for e in table.effects}


def test_effects_match_a_hand_computation_on_the_store(planted):
    path, study = planted
    report, effects = _effects(path, study)
    runs = read_runs(path)
    y = {spec: runs[runs["spec"] == spec].sort_values("fold")["val_dice"].to_numpy() for spec in ("unet", A, B, AB)}
    n_val, n_train = runs["n_val"].mean(), runs["n_train"].mean()
    hand = {
        (MAIN, ("se@enc1",)): ((y[A] + y[AB]) - (y["unet"] + y[B])) / 2,
        (MAIN, ("cbam@dec1",)): ((y[B] + y[AB]) - (y["unet"] + y[A])) / 2,
        (INTERACTION, ("se@enc1", "cbam@dec1")): (y[AB] - y[A]) - (y[B] - y["unet"]),
        (LEAVE_ONE_OUT, ("se@enc1",)): y[AB] - y[B],
        (LEAVE_ONE_OUT, ("cbam@dec1",)): y[AB] - y[A],
    }
    assert set(hand) == set(effects)
    raw = {}
    for where, folds in hand.items():
        effect = effects[where]
        k = len(folds)
        se = math.sqrt((1 / k + n_val / n_train) * folds.var(ddof=1))
        assert effect.fold_gains == pytest.approx(list(folds))
        assert effect.gain == pytest.approx(folds.mean()) and effect.se == pytest.approx(se)
        raw[where] = 2 * stats.t.sf(abs(folds.mean() / se), k - 1)
        assert effect.p == pytest.approx(raw[where])
        half = stats.t.ppf(0.975, k - 1) * se
        assert effect.ci95 == pytest.approx((folds.mean() - half, folds.mean() + half))
    order = sorted(raw, key=raw.get)  # Holm over the study's 5 effects, by hand
    running = 0.0
    for rank, where in enumerate(order):
        running = max(running, min(1.0, (len(order) - rank) * raw[where]))
        assert effects[where].p_adjusted == pytest.approx(running)
        assert effects[where].family_size == 5
    # the subsets' own verdicts (each against the baseline) are the report's comparisons in the study's family
    assert {c.variant for c in report.comparisons} == {A, B, AB}
    assert {c.variant: c.verdict for c in report.comparisons} == {
        c.variant: c.verdict for c in compare(read_runs(path, status=None), plan=study.study.plan())
    }


def test_a_planted_interaction_is_found_and_reads_synergy_holds(planted):
    path, study = planted
    _, effects = _effects(path, study)
    interaction = effects[(INTERACTION, ("se@enc1", "cbam@dec1"))]
    assert interaction.gain == pytest.approx(0.04, abs=0.005)
    assert interaction.verdict in HOLDING and interaction.reading == "synergy holds"
    assert effects[(MAIN, ("se@enc1",))].gain == pytest.approx(0.02 + 0.04 / 2, abs=0.005)  # averaged over cbam
    assert effects[(LEAVE_ONE_OUT, ("se@enc1",))].gain == pytest.approx(0.02 + 0.04, abs=0.005)


def test_without_an_interaction_synergy_does_not_hold(tmp_path):
    effects = {A: 0.03, B: 0.02, AB: 0.05}  # additive: the whole is the sum of its parts
    planned = write_study(tmp_path / "suite.db", ablation_request(), noisy(effects, noise=0.002, seed=4))
    _, found = _effects(tmp_path / "suite.db", planned)
    interaction = found[(INTERACTION, ("se@enc1", "cbam@dec1"))]
    assert interaction.verdict not in HOLDING and interaction.reading != "synergy holds"
    assert found[(MAIN, ("se@enc1",))].verdict in HOLDING and found[(MAIN, ("cbam@dec1",))].verdict in HOLDING


def _simulate(n: int, k: int, draws: int, noise: str, interaction: float, rng) -> np.ndarray:
    """Oriented fold values (draws, 2^n, k): fold levels shared by every subset, main effects, one planted
    pairwise interaction between factors 0 and 1, and per-subset noise correlated across folds as the
    corrected test assumes (rho = n_test / n), or more (0.5: folds more alike than their overlap)."""
    masks = np.arange(2**n)
    on = np.array([(masks >> i) & 1 for i in range(n)])
    means = 0.01 * on.sum(axis=0) + interaction * (on[0] & on[1])
    levels = rng.normal(0, 0.05, size=(draws, 1, k))
    rho = 0.5 if noise == CORRELATED else (1 / (k - 1)) / (1 + 1 / (k - 1))
    draw = NOISES[noise]
    shared, own = draw(rng, (draws, 2**n, 1)), draw(rng, (draws, 2**n, k))
    return levels + means[None, :, None] + 0.01 * (math.sqrt(rho) * shared + math.sqrt(1 - rho) * own)


CORRELATED = "normal, folds correlated 0.5"
NOISES = {
    "normal": lambda rng, shape: rng.standard_normal(shape),
    "student t, 3 df": lambda rng, shape: rng.standard_t(3, shape) / math.sqrt(3),
    CORRELATED: lambda rng, shape: rng.standard_normal(shape),
}


@pytest.mark.parametrize("noise", NOISES)
@pytest.mark.parametrize("n, k", [(2, 3), (2, 5), (3, 5), (4, 10)])
def test_false_synergy_rate_on_no_interaction_data_is_at_most_five_percent(noise, n, k):
    """At most 5%, except where the folds are far more alike than the correction assumes and k is large: as
    for a variant's verdict (README), more noise passes there (about 8% at k = 10), bounded at 10%."""
    rng = np.random.default_rng(20 * n + k)
    values = _simulate(n, k, 20_000, noise, 0.0, rng)
    found = contrasts(n)
    delta = 1e-9  # the worst case: any significant positive interaction would count as a gain
    statistics = effect_statistics(values, found, 1 / (k - 1), 0.0, False, delta)
    verdicts = classify_effects(statistics, delta)["verdict"]
    interactions = [i for i, c in enumerate(found) if c.kind == INTERACTION]
    rate = float(np.isin(verdicts[:, interactions], HOLDING).mean())
    print(f"false 'synergy holds' per interaction, {n} factors, k={k}, {noise} noise: {rate:.2%}")
    assert rate <= (0.10 if noise == CORRELATED and k > 5 else 0.05)


def test_a_planted_interaction_is_found_in_most_simulated_ablations():
    rng = np.random.default_rng(7)
    k, n = 5, 2
    values = _simulate(n, k, 5_000, "normal", 0.05, rng)
    found = contrasts(n)
    verdicts = classify_effects(effect_statistics(values, found, 1 / (k - 1), 0.0, False, 0.01), 0.01)["verdict"]
    index = next(i for i, c in enumerate(found) if c.kind == INTERACTION)
    power = float(np.isin(verdicts[:, index], HOLDING).mean())
    print(f"'synergy holds' for a planted interaction of 5 delta, k={k}: {power:.1%}")
    assert power >= 0.8


def test_a_second_ablation_sharing_subsets_trains_only_the_new_ones(planted):
    path, _ = planted
    second = plan_study(ablation_request("unet+se@enc1+eca@dec1"))
    line, todo = describe_size(second, str(path))
    shared = {"unet", A}  # the baseline and se@enc1 are in the store already
    assert todo == sum(job.spec not in shared for job in second.jobs) == 2 * 5
    assert "20 runs, 10 of them in the store" in line
    assert second.study.id != planted[1].study.id
