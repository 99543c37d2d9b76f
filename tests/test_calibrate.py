"""``suite calibrate``: A/A and placebo arms over split seeds, their false-claim rates, stored and reported."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _verdict_rows import runs_frame
from scipy import stats

from suite.reports.model import build_report
from suite.reports.render import render
from suite.store import Store, read_calibrations
from suite.studies.calibrate import AA, PLACEBO, Rate, evaluate
from suite.verdict import Plan, compare

ROOT = Path(__file__).resolve().parents[1]


def split_frames(seeds: int, shift: float = 0.0) -> tuple[pd.DataFrame, dict[int, str]]:
    """Per split seed: resnet18 at repeats 0 and 1, and resnet18+identity at repeat 0 (exactly repeat 0's values
    plus ``shift``). Repeats differ by seed noise only: the A/A arm is a true null."""
    rng = np.random.default_rng(0)
    frames, manifests = [], {}
    for seed in range(seeds):
        manifest = f"manifest-{seed}"
        fold = 90 + rng.normal(0, 1.0, size=(5, 1))
        repeats = fold + rng.normal(0, 0.3, size=(5, 2))
        frame = runs_frame({"resnet18": repeats, "resnet18+identity": repeats[:, :1] + shift}, manifest_hash=manifest)
        frame = frame[~((frame["spec"] == "resnet18+identity") & (frame["seed"] == 1))]
        frames.append(frame)
        manifests[seed] = manifest
    return pd.concat(frames, ignore_index=True), manifests


def test_each_arm_is_the_verdict_of_its_own_one_variant_family():
    runs, manifests = split_frames(6)
    calibration = evaluate(runs, "digits", "resnet18", "r" * 16, manifests, placebo=True)
    assert calibration.k == 5 and calibration.metric == "accuracy" and calibration.split_seeds == tuple(range(6))
    for seed, manifest in manifests.items():
        split = runs[runs["manifest_hash"] == manifest]
        second = split[(split["spec"] == "resnet18") & (split["seed"] == 1)].assign(spec="x+aa", seed=0)
        frame = pd.concat([split[(split["spec"] == "resnet18") & (split["seed"] == 0)], second.assign(baseline="resnet18")])
        (expected,) = compare(frame, plan=Plan("p", frozenset({("x+aa", "digits", manifest, "r" * 16)})))
        assert calibration.arms[AA].verdicts[seed] == expected.verdict
        assert calibration.arms[AA].gains[seed] == pytest.approx(expected.gain)
    assert set(calibration.arms[PLACEBO].verdicts) == {"no practical gain"}  # identical runs: gain 0 everywhere


def test_a_harness_that_favours_the_variant_shows_up_in_the_placebo_arm():
    runs, manifests = split_frames(6, shift=1.5)  # a "placebo" that wins 1.5 points is a bug in the harness
    calibration = evaluate(runs, "digits", "resnet18", "r" * 16, manifests, placebo=True)
    assert calibration.arms[PLACEBO].holds.count == 6 and calibration.arms[PLACEBO].holds.low > 0.5


def test_rates_carry_clopper_pearson_intervals():
    rate = Rate.of(1, 20)
    expected = stats.binomtest(1, 20).proportion_ci(method="exact")
    assert (rate.low, rate.high) == pytest.approx((expected.low, expected.high))
    assert str(rate) == f"1/20 ({100 * expected.low:.1f}-{100 * expected.high:.1f}%)"
    assert Rate.of(0, 20).low == 0.0


def test_a_stored_calibration_is_shown_next_to_the_verdicts_it_applies_to(tmp_path):
    runs, manifests = split_frames(5)
    calibration = evaluate(runs, "digits", "resnet18", "r" * 16, manifests, placebo=True)
    with Store(tmp_path / "s.db") as store:
        store.add_calibration(calibration)
        store.add_calibration(calibration)  # the same calibration again replaces, never duplicates
    (stored,) = read_calibrations(tmp_path / "s.db")
    assert stored.arms[AA].verdicts == calibration.arms[AA].verdicts and stored.id == calibration.id
    one_split = runs[runs["manifest_hash"] == "manifest-0"]
    report = build_report(one_split, calibrations=[stored])
    assert report.sections[0].calibrations() == [stored]
    assert "false 'holds'" in render(report, "md") and '"calibration": {' in render(report, "json")
    other_k = build_report(one_split[one_split["fold"] < 3].assign(k=3), calibrations=[stored])
    assert other_k.sections[0].calibrations() == []  # another k: another calibration


@pytest.mark.slow
def test_suite_calibrate_trains_both_arms_and_reports_the_rates(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "COLUMNS": "120"}
    command = [sys.executable, "-m", "suite", "calibrate", "--baseline", "resnet18", "--dataset", "digits",
               "--split-seeds", "5", "--folds", "3", "--epochs", "1", "--image-size", "8", "--set", "model.width=4",
               "--store", str(tmp_path / "s.db"), "--device", "cpu"]  # fmt: skip
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "false 'holds'" in done.stdout and "A/A" in done.stdout and "placebo" in done.stdout
    (calibration,) = read_calibrations(tmp_path / "s.db")
    assert len(calibration.arms[AA].verdicts) == len(calibration.arms[PLACEBO].verdicts) == 5
    again = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "0 to train" in again.stdout  # every run is reused


def test_too_few_split_seeds_is_one_line(tmp_path):
    from typer.testing import CliRunner

    from suite.cli import app

    result = CliRunner().invoke(app, ["calibrate", "--baseline", "resnet18", "--dataset", "digits", "--split-seeds", "2",
                                      "--store", str(tmp_path / "s.db")])  # fmt: skip
    assert result.exit_code != 0 and "--split-seeds 2" in str(result.exception)
    assert not (tmp_path / "s.db").exists()
