"""Lower-is-better metrics (HD95, ECE) through ``suite compare`` and ``suite report`` on a real store, and the
descriptive sections every report carries: every validation metric, per-image percentiles and the
official test split, which never enters a verdict.

The store holds SYNTHETIC run records (written with ``Store.write``, no training): a U-Net whose SE variant
lowers HD95 by about 2 px on every fold and whose CBAM variant raises it, each run with per-image values
of its validation slices and a test-split score that points the OTHER way, and a ResNet whose SE variant
lowers ECE.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from suite.cli import app
from suite.per_sample import PerSample
from suite.records import RunRecord, Seeds
from suite.reports.model import build_report
from suite.reports.render import render
from suite.store import Store, read_runs

K, SEEDS, IMAGES = 5, 2, 6
SEG, CLS = "isbi2012-membrane", "digits"
HD95_SHIFT = {"unet": 0.0, "unet+se": -2.0, "unet+cbam": +2.0}  # px added to the baseline's HD95
ECE_SHIFT = {"resnet18": 0.0, "resnet18+se": -3.0}  # points added to the baseline's ECE
runner = CliRunner()


def _record(dataset: str, spec: str, fold: int, seed: int, metrics: dict, per_sample, test: dict) -> RunRecord:
    task = "seg" if dataset == SEG else "cls"
    return RunRecord(
        key=f"{dataset}-{spec}-{fold}-{seed}",
        spec=spec,
        baseline=spec.split("+")[0],
        dataset=dataset,
        manifest_hash="m" * 64,
        k=K,
        fold=fold,
        seeds=Seeds.from_repeat(0, seed),
        recipe={"task": task, "image_size": 64},
        recipe_hash="r" * 16,
        status="done",
        metrics=metrics,
        per_sample=per_sample,
        test_metrics=test,
        n_train=24,
        n_val=IMAGES,
        params=1_000_000,
        device="cpu",
        provenance={
            "versions": {"suite": "0.1.0", "torch": "2.14.1", "monai": "1.6.1", "torchmetrics": "1.9.0"},
            "git_commit": "c0ffee1",
            "scoring": {"nsd_tolerance_px": 1.0, "pixel_spacing_mm": [3.2e-05, 3.2e-05], "cldice": False},
        },
    )


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("directions") / "suite.db"
    rng = np.random.default_rng(7)
    fold_level = 12.0 + rng.normal(0, 2.0, size=K)  # HD95 of the baseline per fold, px
    image_offsets = rng.normal(0, 3.0, size=(K, IMAGES))
    with Store(path) as db:
        for spec, shift in HD95_SHIFT.items():
            fold_effect = shift + rng.normal(0, 0.2, size=K)
            for fold in range(K):
                ids = [f"slice-{fold * IMAGES + i:02d}" for i in range(IMAGES)]
                for seed in range(SEEDS):
                    hd95 = fold_level[fold] + fold_effect[fold] + image_offsets[fold] + rng.normal(0, 0.1, IMAGES)
                    dice = 0.8 - 0.01 * (hd95 - 12.0)
                    metrics = {"dice": float(dice.mean()), "hd95": float(hd95.mean()), "nsd": float(dice.mean() - 0.05)}
                    test = {"dice": 0.7, "hd95": 20.0 - 2 * shift}  # the test split disagrees: it is not the verdict
                    per_sample = PerSample(ids, {"dice": dice, "hd95": hd95})
                    db.write(_record(SEG, spec, fold, seed, metrics, per_sample, test))
        ece_level = 8.0 + rng.normal(0, 1.0, size=K)
        for spec, shift in ECE_SHIFT.items():
            for fold in range(K):
                for seed in range(SEEDS):
                    ece = ece_level[fold] + shift + rng.normal(0, 0.2)
                    db.write(_record(CLS, spec, fold, seed, {"accuracy": 90.0 + rng.normal(0, 0.5), "ece": ece}, None, {}))
    return str(path)


def invoke(*args: str, columns: int = 200):
    return runner.invoke(app, list(args), env={"COLUMNS": str(columns)}, catch_exceptions=True)


def test_a_lower_hd95_is_a_gain_and_a_higher_one_is_worse(store):
    result = invoke("compare", "--store", store, "--dataset", SEG, "--metric", "hd95", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    by_variant = {c["variant"]: c for c in document["comparisons"]}
    se, cbam = by_variant["unet+se"], by_variant["unet+cbam"]
    assert se["verdict"] in ("holds", "holds (>= delta)") and se["gain"] == pytest.approx(2.0, abs=0.4)
    assert se["ci95"][0] > 0  # baseline - variant: fewer pixels of boundary error is a positive gain
    assert cbam["verdict"] == "worse" and cbam["gain"] == pytest.approx(-2.0, abs=0.4)
    assert document["statistics"]["directions"]["hd95"] == "lower is better"


def test_the_terminal_table_says_pixels_and_lower_is_better(store):
    result = invoke("compare", "--store", store, "--dataset", SEG, "--metric", "hd95")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "hd95 (px; lower is better, gain > 0 is better)" in text and "HD95 px ↓" in text
    rows = {line.split()[1]: line for line in result.output.splitlines() if line.startswith("│ ") and "+" in line.split()[1]}
    assert "holds" in rows["unet+se@decoder"] and "worse" in rows["unet+cbam@decoder"]
    assert "MONAI compute_hausdorff_distance" in text and "monai 1.6.1" in text  # which implementation, which version
    assert "Official test split" in text and "not part of the verdict" in text


@pytest.mark.parametrize("gate, code", [("worse", 1), ("loss", 1)])
def test_fail_on_follows_the_direction(store, gate, code):
    result = invoke("report", "--store", store, "--dataset", SEG, "--metric", "hd95", "--fail-on", gate)
    assert result.exit_code == code and "unet+cbam" in result.stderr and "unet+se " not in result.stderr


def test_a_lower_ece_is_a_gain(store):
    result = invoke("compare", "--store", store, "--dataset", CLS, "--metric", "ece", "--json")
    assert result.exit_code == 0, result.output
    (se,) = json.loads(result.stdout)["comparisons"]
    assert se["verdict"] in ("holds", "holds (>= delta)") and se["gain"] == pytest.approx(3.0, abs=0.6)


def test_the_test_split_never_changes_a_verdict(store):
    runs = read_runs(store, status=None)
    report = build_report(runs, dataset=SEG, metric="hd95")
    without_test = build_report(runs.drop(columns=[c for c in runs if c.startswith("test_")]), dataset=SEG, metric="hd95")
    assert [(c.variant, c.verdict, c.gain, c.p_adjusted) for c in report.comparisons] == [
        (c.variant, c.verdict, c.gain, c.p_adjusted) for c in without_test.comparisons
    ]
    (section,) = report.sections
    test = {row.spec: row for row in section.test}
    assert test["unet+cbam"].values["hd95"][0] == pytest.approx(16.0) and test["unet+cbam"].runs == K * SEEDS
    assert not without_test.sections[0].test


def test_every_report_format_has_the_metric_tables_apart_from_the_verdict(store):
    report = build_report(read_runs(store, status=None), dataset=SEG, metric="hd95")
    (section,) = report.sections
    assert {row.spec for row in section.validation} == set(HD95_SHIFT)
    assert set(section.validation[0].values) == {"dice", "hd95", "nsd"}
    for fmt in ("md", "html"):
        text = render(report, fmt)
        assert "Every validation metric" in text and "Official test split (test results: not part of the verdict)" in text
        assert "Per image · hd95" in text and "HD95 (px, lower is better)" in text
        assert text.index("Every validation metric") < text.index("Official test split")
        assert "NSD tolerance 1 px" in text and "image diagonal" in text  # scoring and the empty-mask rule
    document = json.loads(render(report, "json"))
    (json_section,) = document["sections"]
    assert {row["spec"] for row in json_section["test_results"]} == set(HD95_SHIFT)
    per_image = {item["variant"]: item for item in json_section["per_image"]}
    assert per_image["unet+se"]["images"] == K * IMAGES  # every validation slice once, its seeds averaged
    assert per_image["unet+se"]["better"] > per_image["unet+se"]["worse"]  # lower HD95 per image: better
    assert per_image["unet+cbam"]["better"] < per_image["unet+cbam"]["worse"]
    assert document["statistics"]["implementations"]["hd95"].startswith("MONAI")


def test_per_image_percentiles_are_those_of_the_stored_values(store):
    runs = read_runs(store)
    report = build_report(runs, dataset=SEG, metric="dice")
    item = next(i for i in report.sections[0].per_image if i.variant == "unet+se")
    base = runs[runs["spec"] == "unet"]
    frame = pd.DataFrame(
        [(run.fold, i, v) for run in base.itertuples() for i, v in zip(run.per_sample.ids, run.per_sample.values["dice"])],
        columns=["fold", "id", "value"],
    )
    per_image = frame.groupby(["fold", "id"])["value"].mean()
    assert item.summary.baseline[2] == pytest.approx(float(np.median(per_image)), rel=1e-6)
