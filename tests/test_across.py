"""Across datasets: one module's verdicts side by side, Wilcoxon on gain / delta, ranks (Friedman, Nemenyi)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from _verdict_rows import effect_grid, runs_frame
from scipy import stats
from typer.testing import CliRunner

from suite.cli import app
from suite.errors import SuiteError
from suite.reports.across import BASELINE, build_across, insertion_label
from suite.reports.model import build_report

TASKS = (  # dataset, baseline, metric, scale of the metric
    ("digits", "resnet18", "accuracy", 1.0),
    ("shapes", "unet", "dice", 0.01),
    ("isbi2012-membrane", "unet", "dice", 0.01),
    ("kvasir-seg", "unet", "dice", 0.01),
    ("busi", "unet", "dice", 0.01),
)


def store_frame(n_tasks: int, seed: int = 0) -> pd.DataFrame:
    """SE gains about one delta on every task; ECA (at the default points too) loses a little."""
    rng = np.random.default_rng(seed)
    frames = []
    for dataset, baseline, metric, scale in TASKS[:n_tasks]:
        base, better = effect_grid(rng, 1.0 * scale, base=80 * scale, noise=0.3 * scale, spread=scale)
        worse = base - 0.3 * scale + rng.normal(0, 0.3 * scale, size=base.shape)
        specs = {baseline: base, f"{baseline}+se": better, f"{baseline}+eca": worse}
        frames.append(runs_frame(specs, dataset=dataset, metric=metric))
    return pd.concat(frames, ignore_index=True)


def test_insertions_at_default_points_share_one_label_across_baselines():
    assert insertion_label("resnet18+se@blocks1,blocks2,blocks3,blocks4") == "se"
    assert insertion_label("unet+se@dec1,dec2,dec3,dec4") == "se"
    assert insertion_label("unet+se@enc1") == "se@enc1"
    assert insertion_label("unet+se(rd_ratio=0.25)") == "se(rd_ratio=0.25)"
    assert insertion_label("unet+se@dec1,dec2,dec3,dec4:residual") == "se@decoder:residual"


def test_wilcoxon_and_ranks_match_a_hand_computation():
    runs = store_frame(4)
    report = build_report(runs)
    across = build_across(report)
    se = next(i for i in across.insertions if i.label == "se")
    gains = [c.gain / c.delta for c in report.comparisons if c.variant.split("+")[1].startswith("se")]
    assert len(se.tasks) == 4 and se.median_gain_in_deltas == pytest.approx(np.median(gains))
    assert se.wilcoxon_p == pytest.approx(stats.wilcoxon(gains).pvalue)
    assert "smallest two-sided p" in se.note  # 4 tasks cannot reach 0.05
    ranking = across.ranking
    assert ranking.populations == [BASELINE, "eca", "se"] and len(ranking.datasets) == 4
    table = {}
    for comp in report.comparisons:
        label = insertion_label(comp.variant)
        table.setdefault(comp.dataset, {})[label] = comp.variant_mean
        table[comp.dataset][BASELINE] = comp.baseline_mean
    expected = pd.DataFrame(table).T[ranking.populations].rank(axis=1, ascending=False).mean()
    assert ranking.mean_ranks == pytest.approx(expected.to_dict())
    assert ranking.omnibus_p == pytest.approx(
        stats.friedmanchisquare(*(pd.DataFrame(table).T[p] for p in ranking.populations)).pvalue
    )
    assert ranking.critical_difference is None  # autorank needs 5 tasks


def test_five_tasks_get_autorank_nemenyi_critical_difference():
    across = build_across(build_report(store_frame(5)))
    ranking = across.ranking
    assert ranking.critical_difference is not None and ranking.critical_difference > 0
    assert "nemenyi" in ranking.method.lower() and ranking.mean_ranks["se"] < ranking.mean_ranks[BASELINE]


def test_too_few_datasets_is_one_line_with_the_way_out():
    with pytest.raises(SuiteError, match="3 or more datasets") as err:
        build_across(build_report(store_frame(2)))
    assert "\n" not in str(err.value)


def test_cli_prints_the_side_by_side_table_and_json(tmp_path, monkeypatch):
    from suite.store import Store
    from test_cli_compare import write_runs

    path = tmp_path / "suite.db"
    rng = np.random.default_rng(3)
    for dataset, baseline, metric, scale in TASKS[:3]:
        base, better = effect_grid(rng, 1.0 * scale, base=80 * scale, noise=0.3 * scale, spread=scale)
        write_runs(path, {baseline: base, f"{baseline}+se": better}, dataset, metric)
    with Store(path):
        pass
    runner = CliRunner()
    text = runner.invoke(app, ["compare", "--store", str(path), "--across-datasets"], env={"COLUMNS": "200"})
    assert text.exit_code == 0, text.output
    assert "digits (resnet18)" in text.output and "shapes (unet)" in text.output and "Wilcoxon" in text.output
    result = runner.invoke(app, ["compare", "--store", str(path), "--across-datasets", "--json"])
    document = json.loads(result.stdout)
    (se,) = document["insertions"]
    assert se["label"] == "se" and len(se["tasks"]) == 3 and document["ranking"]["populations"] == [BASELINE, "se"]


def test_baseline_and_one_module_on_five_tasks_names_wilcoxon_not_friedman():
    runs = store_frame(5)
    runs = runs[~runs["spec"].str.contains("eca")]
    ranking = build_across(build_report(runs)).ranking
    assert ranking.populations == [BASELINE, "se"] and ranking.omnibus == "Wilcoxon"
    assert ranking.critical_difference is None and "Wilcoxon test" in ranking.method and "None" not in ranking.method


def test_one_dataset_under_two_recipes_is_two_tasks_not_one_counted_twice():
    runs = store_frame(3)
    rng = np.random.default_rng(9)
    base, better = effect_grid(rng, 0.01, base=0.8, noise=0.003, spread=0.01)
    again = runs_frame({"unet": base, "unet+se": better}, dataset="shapes", metric="dice", recipe_hash="z" * 16)
    again["recipe"] = [{"task": "seg", "image_size": 48}] * len(again)
    runs["recipe"] = [
        {"task": "seg", "image_size": 32} if dataset == "shapes" else recipe
        for dataset, recipe in zip(runs["dataset"], runs["recipe"])
    ]
    across = build_across(build_report(pd.concat([runs, again], ignore_index=True)))
    se = next(i for i in across.insertions if i.label == "se")
    names = [t.name for t in se.tasks]
    assert len(names) == len(set(names)) == 4
    assert "shapes (unet; image_size=32)" in names and "shapes (unet; image_size=48)" in names
    assert len(across.task_names) == 4
