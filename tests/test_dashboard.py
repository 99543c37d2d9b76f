"""The Streamlit dashboard under ``AppTest`` (every page, a grid store with a failed run and a second
setting, stores of one module on 3 and 5 datasets, an empty, a missing and a corrupt store), its table
helpers, and the ``suite dashboard`` command line (without starting a server).

Expected variants and verdicts are never written here: they come from ``suite.verdict.compare`` (through
the report model every view renders) on the same store the app reads, failed runs included.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from _dashboard_fixtures import (
    ACROSS_TASKS,
    FAILED,
    GRIDS,
    IMAGES,
    SECOND_SETTING,
    across_store,
    add_variant,
    real_tiny_grid_store,
    synthetic_grid_store,
)
from suite.errors import SuiteError
from suite.metric_catalog import metric_info
from suite.per_sample import paired, summarize
from suite.reports import _format
from suite.reports._common import TEST_TITLE, family_label, metric_heading, verdict_text
from suite.reports.across import build_across
from suite.reports.model import build_report
from suite.reports.style import style
from suite.spec import key, parse
from suite.store import read_runs
from suite.verdict import VERDICTS

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboard" / "app.py"
PAGES = sorted(path.relative_to(APP.parent).as_posix() for path in (APP.parent / "views").glob("*.py"))
TITLES = {"views/leaderboard.py": "Leaderboard", "views/variant.py": "Variant", "views/gains.py": "Gains",
          "views/across.py": "Across datasets", "views/studies.py": "Studies"}  # fmt: skip
FILTERS = ("filter_dataset", "filter_baseline", "filter_module", "filter_point", "filter_verdict")

sys.path.insert(0, str(APP.parent))  # the app's helpers import each other by bare name, as Streamlit runs them
import _data  # noqa: E402
import _spec  # noqa: E402
import _tables  # noqa: E402


@pytest.fixture(scope="module")
def grid_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_grid_store(tmp_path_factory.mktemp("grid") / "suite.db")


def settings(store: Path, **options) -> dict[tuple[str, str, str], object]:
    """(dataset, setting label, variant) -> Comparison, as the report model groups the verdicts of ``store``
    (every run, failed ones included, as the CLI reads it)."""
    report = build_report(read_runs(store, status=None), **options)
    return {
        (section.dataset, setting.label, comp.variant): comp
        for section in report.sections
        for setting in section.settings
        for comp in setting.comparisons
    }


@pytest.fixture(scope="module")
def expected(grid_store: Path) -> dict[tuple[str, str, str], object]:
    return settings(grid_store)


@pytest.fixture(scope="module")
def across_stores(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """One module (and a second) on 3 and on 5 datasets."""
    return {n: across_store(tmp_path_factory.mktemp(f"across{n}") / "suite.db", ACROSS_TASKS[:n]) for n in (3, 5)}


def variant_rows(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[rows["verdict_text"] != _tables.BASELINE]


def shown_verdicts(rows: pd.DataFrame) -> dict[tuple[str, str, str], str]:
    variants = variant_rows(rows)
    return dict(zip(zip(variants["dataset"], variants["setting"], variants["variant"]), variants["verdict_text"]))


def open_app(store: Path, monkeypatch: pytest.MonkeyPatch, page: str | None = None) -> AppTest:
    monkeypatch.setenv("SUITE_STORE", str(store))
    app = AppTest.from_file(str(APP), default_timeout=60).run()
    if page is not None:
        app.switch_page(page).run()
    assert not app.exception, [e.message for e in app.exception]
    return app


def leaderboard_rows(app: AppTest) -> pd.DataFrame:
    """The leaderboard table (the first table of the Leaderboard page)."""
    assert app.title[0].value == "Leaderboard"
    return app.dataframe[0].value


def table_with(app: AppTest, column: str) -> pd.DataFrame | None:
    """The first table of the page with a column named (or starting with) ``column``."""
    return next((t.value for t in app.dataframe if any(str(c).startswith(column) for c in t.value.columns)), None)


def chart_data(app: AppTest) -> list[list[pd.DataFrame]]:
    """The data sets of every Vega-Lite chart on the page, decoded from Arrow."""
    charts = [el for el in app.main if getattr(el, "type", None) == "vega_lite_chart"]
    return [[pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in c.proto.datasets] for c in charts]


def test_the_router_registers_every_page_file(grid_store, monkeypatch):
    app = open_app(grid_store, monkeypatch)
    for page in PAGES:  # switch_page refuses a file st.navigation did not register
        app.switch_page(page)


def test_leaderboard_lists_every_variant_with_its_verdict_as_the_reports_word_it(grid_store, expected, monkeypatch):
    rows = leaderboard_rows(open_app(grid_store, monkeypatch))
    assert shown_verdicts(rows) == {where: verdict_text(comp) for where, comp in expected.items()}
    assert {comp.verdict for comp in expected.values()} == set(VERDICTS)  # the fixture exercises every badge
    badges = " ".join(m.value for m in open_app(grid_store, monkeypatch).markdown)
    for verdict in VERDICTS:  # marks and colours from suite.reports.style
        count = sum(c.verdict == verdict for c in expected.values())
        assert f":{style(verdict).badge}-badge[{style(verdict).mark} {verdict}: {count}]" in badges


def test_each_variant_sits_under_its_own_baseline_setting(grid_store, expected, monkeypatch):
    rows = leaderboard_rows(open_app(grid_store, monkeypatch))
    dataset, size, _ = SECOND_SETTING
    labels = {setting for (where, setting, _) in expected if where == dataset}
    assert labels == {"image_size=32", f"image_size={size}"}  # what differs between the two U-Net settings
    baselines = rows[rows["verdict_text"] == _tables.BASELINE]
    assert sorted(zip(baselines["variant"], baselines["setting"])) == sorted(
        {(g["baseline"], "") for g in GRIDS.values() if g["baseline"] != "unet"} | {("unet", label) for label in labels}
    )
    current = None
    for row in rows.itertuples():  # every variant row follows the row of its own baseline setting
        if row.verdict_text == _tables.BASELINE:
            current = (row.dataset, row.variant, row.setting)
        else:
            assert current == (row.dataset, row.baseline, row.setting), row.variant


def test_leaderboard_p_ci_posterior_and_family_are_the_report_cells(grid_store, expected, monkeypatch):
    rows = leaderboard_rows(open_app(grid_store, monkeypatch))
    rows = variant_rows(rows).set_index(["dataset", "setting", "variant"])
    assert len(rows) == len(expected)
    for where, comp in expected.items():
        row = rows.loc[where]
        assert row["ci95"] == _format.ci(comp.ci95, comp.metric) and row["p_text"] == _format.p_value(comp.shown_p)
        assert row["p_gain"] == _format.probability(comp.prob_above_delta)
        assert row["posterior"] == _format.posterior(comp)
        assert row["family_text"] == family_label(comp.family, comp.family_size)
        assert row["folds_won"] == _format.folds_won(comp)
        if comp.has_stats:
            assert row["gain"] == pytest.approx(comp.gain)
            assert comp.p_adjusted >= comp.p  # Holm-adjusted, two-sided: the p every view shows
            assert pd.isna(row["reason"])
        else:
            assert pd.isna(row["gain"]) and row["reason"] == comp.reason


def test_a_failed_run_reads_failed_on_every_page(grid_store, expected, monkeypatch):
    dataset, spec, fold, seed = FAILED
    (refused,) = [c for c in expected.values() if c.reason is not None]
    assert refused.variant == key(spec) and "failed" in refused.reason and f"fold {fold} seed {seed}" in refused.reason
    app = open_app(grid_store, monkeypatch)
    row = variant_rows(leaderboard_rows(app)).set_index("variant").loc[key(spec)]
    assert row["verdict_text"] == "inconclusive (refused)" and row["reason"] == refused.reason
    assert "missing cells" not in row["reason"]
    app.switch_page("views/variant.py").run()
    picker = app.selectbox(key="variant_choice")
    picker.set_value(next(i for i, o in enumerate(picker.options) if o.startswith(key(spec) + " "))).run()
    assert app.metric[0].value == "inconclusive (refused)"
    assert [w.value for w in app.warning] == [f"Refused, no statistics: {refused.reason}"]
    runs = app.dataframe[-1].value  # every run of the pair, failed ones with their error
    assert set(runs.loc[runs["status"] == "failed", "fold"]) == {fold}  # the failed run is listed with its error
    app.switch_page("views/gains.py").run()
    app.selectbox(key="gains_dataset").set_value(dataset).run()
    assert not app.exception
    for page_text in (app.main.caption, app.main.info, app.main.warning):
        assert all("missing cells" not in element.value for element in page_text)


@pytest.mark.parametrize("key", FILTERS)
def test_each_filter_reduces_rows_to_matching_ones(grid_store, monkeypatch, key):
    app = open_app(grid_store, monkeypatch)
    everything = leaderboard_rows(app)
    widget = app.multiselect(key=key)
    option = widget.options[0]
    widget.set_value([option]).run()
    assert not app.exception
    rows = leaderboard_rows(app)
    assert 0 < len(rows) < len(everything)
    variants = variant_rows(rows)
    if key == "filter_verdict":  # the filter picks the label; the cell words it (MDE, refused)
        verdicts = settings(grid_store)
        assert all(verdicts[(r.dataset, r.setting, r.variant)].verdict == option for r in variants.itertuples())
    else:
        column = {"filter_dataset": "dataset", "filter_baseline": "baseline"}
        column |= {"filter_module": "module", "filter_point": "points"}
        checked = rows if key in ("filter_dataset", "filter_baseline") else variants  # baselines have no module
        assert all(option in _tables.split_labels(cell) for cell in checked[column[key]])
    baselines = rows[rows["verdict_text"] == _tables.BASELINE]
    for dataset, baseline, setting in zip(baselines["dataset"], baselines["baseline"], baselines["setting"]):
        shown = (variants["dataset"] == dataset) & (variants["baseline"] == baseline) & (variants["setting"] == setting)
        assert shown.any()  # a baseline setting is shown only with its variants


def test_metric_and_delta_controls_recompute_the_verdicts(grid_store, monkeypatch):
    app = open_app(grid_store, monkeypatch)
    app.selectbox(key=_data.METRIC_KEY).set_value("iou")
    app.number_input(key=_data.DELTA_KEY).set_value(0.02).run()
    assert not app.exception
    rows = leaderboard_rows(app)
    wanted = settings(grid_store, metric="iou", delta=0.02)
    assert shown_verdicts(rows) == {where: verdict_text(comp) for where, comp in wanted.items()}
    assert set(rows["metric"]) == {"IoU"}  # datasets without IoU (classification) drop out


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_the_grid_store(grid_store, monkeypatch, page):
    app = open_app(grid_store, monkeypatch, page)
    assert not app.error
    assert app.title[0].value == TITLES[page]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("state", ["missing", "empty"])
def test_an_empty_or_missing_store_shows_how_to_create_results(tmp_path, monkeypatch, page, state):
    store = tmp_path / "suite.db"
    if state == "empty":
        from suite.store import Store

        Store(store).close()  # a valid store with no runs
    app = open_app(store, monkeypatch, page)
    assert not app.error
    message = " ".join(info.value for info in app.info)
    assert str(store) in message and "suite demo" in message and "suite run --variant" in message
    assert not app.dataframe


@pytest.mark.parametrize("page", PAGES)
def test_a_corrupt_store_is_a_one_line_error_not_a_traceback(tmp_path, monkeypatch, page):
    store = tmp_path / "suite.db"
    store.write_text("this is not a database\n")
    app = open_app(store, monkeypatch, page)
    assert len(app.error) == 1 and "\n" not in app.error[0].value and str(store) in app.error[0].value


def test_variant_page_pairs_every_fold_and_seed_and_shows_the_verdict_statistics(grid_store, monkeypatch):
    app = open_app(grid_store, monkeypatch, "views/variant.py")
    runs = read_runs(grid_store)
    comparisons = build_report(read_runs(grid_store, status=None)).comparisons
    picker = app.selectbox(key="variant_choice")
    assert len(picker.options) == len(comparisons)
    for index, comp in enumerate(comparisons):
        app.selectbox(key="variant_choice").set_value(index).run()
        assert not app.exception
        pairs = app.dataframe[0].value
        column = f"val_{comp.metric}"
        same = runs[(runs["manifest_hash"] == comp.manifest_hash) & (runs["recipe_hash"] == comp.recipe_hash)]
        base = same[same["spec"] == comp.baseline].set_index(["fold", "seed"])[column]
        variant = same[same["spec"] == comp.variant].set_index(["fold", "seed"])[column]
        assert len(pairs) == len(variant) == comp.n_folds * comp.n_seeds - (comp.reason is not None)  # one failed
        for row in pairs.itertuples():
            assert row.baseline == pytest.approx(base[(row.fold, row.seed)])
            assert row.difference == pytest.approx(variant[(row.fold, row.seed)] - base[(row.fold, row.seed)])
        metrics = {m.label: m.value for m in app.metric}
        captions = " ".join(c.value for c in app.main.caption)
        assert metrics["Verdict"] == verdict_text(comp)
        assert f"Family: {family_label(comp.family, comp.family_size)}" in captions
        assert _format.latency_added(comp) in captions
        assert ("unreliable" in captions) == (comp.latency_reliable is False)
        if comp.has_stats:
            assert metrics["p (two-sided, Holm)"] == _format.p_value(comp.p_adjusted)
            posterior = [metrics[name] for name in ("P(gain > δ)", "P(|gain| < δ)", "P(gain < −δ)")]
            assert " / ".join(posterior) == _format.posterior(comp)
            assert metrics["MDE of the rule"] == _format.value(comp.mde, comp.metric)
            assert f"in a family of {comp.family_size}" in captions
            assert ("Standard error floored at the metric's resolution" in captions) == comp.se_floored
        paired_plot, _distribution, _per_image, *curves = chart_data(app)
        assert len(paired_plot[0]) == 2 * len(pairs)  # one baseline and one variant point per (fold, seed)
        assert len(curves) == 2  # validation metric and training loss
        placed = table_with(app, "module")  # as rebuilt with build_variant: one row per (module, point)
        spec = parse(comp.variant)
        assert sorted(zip(placed["module"], placed["point"])) == sorted(
            (ins.module, point) for ins in spec.insertions for point in ins.points
        )
        assert (placed["channels"] > 0).all() and (placed["params added"] > 0).all()
    assert {c.se_floored for c in comparisons if c.has_stats} == {True, False}  # both captions were seen
    assert {c.latency_reliable for c in comparisons} >= {True, False}


@pytest.mark.parametrize("metric", ["dice", "hd95", "accuracy"])
def test_variant_page_pairs_the_per_image_values_on_the_same_images(grid_store, monkeypatch, metric):
    monkeypatch.setenv("SUITE_STORE", str(grid_store))
    app = AppTest.from_file(str(APP), default_timeout=60).run()
    app.selectbox(key=_data.METRIC_KEY).set_value(metric).run()
    app.switch_page("views/variant.py").run()
    runs = read_runs(grid_store)
    report = build_report(read_runs(grid_store, status=None), metric=metric)
    higher = metric_info(metric).higher_is_better
    for index, comp in enumerate(report.comparisons):
        app.selectbox(key="variant_choice").set_value(index).run()
        assert not app.exception
        same = runs[(runs["manifest_hash"] == comp.manifest_hash) & (runs["recipe_hash"] == comp.recipe_hash)]
        expected = paired(same[same["spec"] == comp.baseline], same[same["spec"] == comp.variant], metric)
        assert len(expected) == comp.n_folds * IMAGES  # every validation image of every fold, once
        _, distribution, per_image, *_ = chart_data(app)
        assert len(distribution[0]) == 2 * len(expected)  # each image under the baseline and the variant
        shown = next(d for d in per_image if "id" in d).set_index(["fold", "id"]).sort_index()  # not the diagonal
        assert list(shown.index) == list(expected.set_index(["fold", "id"]).index)
        np.testing.assert_allclose(shown["gain"], expected["gain"])
        sign = 1 if higher else -1  # a lower HD95 is a positive gain
        np.testing.assert_allclose(shown["gain"], sign * (shown["variant"] - shown["baseline"]))
        table = table_with(app, "values").set_index("values")
        summary = summarize(expected)
        assert list(table.loc["baseline"]) == pytest.approx(summary.baseline)
        assert list(table.loc["gain (positive = better)"]) == pytest.approx(summary.gain)
        captions = " ".join(c.value for c in app.main.caption)
        assert f"better on {summary.better}, worse on {summary.worse}" in captions
        every = table_with(app, "metric")
        assert metric_heading(metric) in list(every["metric"])
        test = [t.value for t in app.dataframe if "metric" in t.value.columns][1:]
        if comp.dataset == "shapes":  # the fixture's segmentation runs were scored on a test split
            assert test and set(test[0]["metric"]) == set(every["metric"]) and TEST_TITLE in app.markdown[-1].value
        else:
            assert not test and "No official test split" in captions


def test_gains_page_plots_every_tested_variant_and_its_pareto_front(grid_store, monkeypatch):
    app = open_app(grid_store, monkeypatch, "views/gains.py")
    verdicts = settings(grid_store)
    for dataset in app.selectbox(key="gains_dataset").options:
        for cost_column in ("gmacs_added", "latency_added_pct"):
            app.selectbox(key="gains_dataset").set_value(dataset)
            app.selectbox(key="gains_cost").set_value(cost_column).run()
            found = [(c, c.variant + (f" · {s}" if s else "")) for (d, s, _), c in verdicts.items() if d == dataset]
            tested, labels = zip(*[(c, label) for c, label in found if c.gain is not None])
            forest, *scatter = chart_data(app)
            forest_rows = next(data for data in forest if "label" in data)
            assert sorted(forest_rows["label"]) == sorted(labels)
            unreliable = sorted(label for c, label in zip(tested, labels) if c.latency_reliable is False)
            if cost_column == "gmacs_added":
                unreliable = []  # only a latency can lie within its spread
            plotted = [(c, label) for c, label in zip(tested, labels) if label not in unreliable]
            assert len(scatter) == (1 if plotted else 0)
            left_out = [c.value for c in app.main.caption if c.value.startswith("Left out")]
            note = f"Left out, their latency added lies within its spread (unreliable): {', '.join(unreliable)}."
            assert left_out == ([note] if unreliable else [])
            if not plotted:  # nothing to plot: said in one line, no front
                assert "to plot" in app.info[0].value
                continue
            cost = pd.Series([getattr(c, cost_column) for c, _ in plotted])
            gain = pd.Series([c.gain for c, _ in plotted])
            dominated = [
                any((cost[j] <= cost[i]) & (gain[j] >= gain[i]) & ((cost[j] < cost[i]) | (gain[j] > gain[i])) for j in cost.index)
                for i in cost.index
            ]
            front = sorted(label for (_, label), beaten in zip(plotted, dominated) if not beaten)
            assert app.main.caption[-1].value.endswith(f"{', '.join(front)}.")


@pytest.mark.parametrize("tasks", [3, 5])
def test_across_page_renders_build_across(across_stores, monkeypatch, tasks):
    store = across_stores[tasks]
    across = build_across(build_report(read_runs(store, status=None)))
    app = open_app(store, monkeypatch, "views/across.py")
    assert not app.error and app.title[0].value == "Across datasets"
    table = app.dataframe[0].value
    assert list(table["module"]) == [ins.label for ins in across.insertions] == ["eca", "se"]
    names = [f"{dataset} ({baseline})" for dataset, baseline, _, _ in ACROSS_TASKS[:tasks]]
    assert sorted(across.task_names) == sorted(names)
    for insertion, row in zip(across.insertions, table.itertuples(index=False)):
        cells = dict(zip(table.columns, row))
        assert [cells[name] for name in names] == [
            next(t for t in insertion.tasks if t.name == name).cell for name in names
        ]  # the verdict mark and gain / delta of each task, e.g. "⇑ +2.03"
        assert cells["wins"] == f"{insertion.wins}/{insertion.tested}"
        assert cells["median gain/δ"] == pytest.approx(insertion.median_gain_in_deltas)
        assert cells["Wilcoxon p"] == _format.p_value(insertion.wilcoxon_p) and cells["note"] == insertion.note
    ranks = app.dataframe[1].value
    assert dict(zip(ranks["population"], ranks["mean rank"])) == pytest.approx(across.ranking.mean_ranks)
    captions = " ".join(c.value for c in app.main.caption)
    assert f"{across.ranking.omnibus} p {_format.p_value(across.ranking.omnibus_p)}" in captions
    images = [el for el in app.main if getattr(el, "type", None) == "image"]
    charts = chart_data(app)
    if tasks >= 5:  # autorank's critical-difference diagram (matplotlib), no rank chart
        assert across.ranking.critical_difference is not None and len(images) == 1 and not charts
        assert f"CD = {across.ranking.critical_difference:.2f}" in captions
    else:  # the mean ranks in Altair, titled with why there is no critical difference
        assert across.ranking.critical_difference is None and not images
        (ranked,) = charts
        plotted = next(data for data in ranked if "mean_rank" in data)
        assert dict(zip(plotted["population"], plotted["mean_rank"])) == pytest.approx(across.ranking.mean_ranks)
        chart = next(el for el in app.main if getattr(el, "type", None) == "vega_lite_chart")
        assert across.ranking.no_critical_difference in chart.proto.spec


def test_across_page_says_in_one_line_when_no_module_is_on_three_datasets(grid_store, monkeypatch):
    app = open_app(grid_store, monkeypatch, "views/across.py")
    with pytest.raises(SuiteError) as err:
        build_across(build_report(read_runs(grid_store, status=None)))
    assert [info.value for info in app.info] == [str(err.value)] and "\n" not in str(err.value)
    assert "suite run --variant" in str(err.value) and not app.dataframe


@pytest.mark.slow
def test_every_page_renders_a_real_tiny_grid(tmp_path, monkeypatch):
    store = real_tiny_grid_store(tmp_path / "suite.db")
    app = open_app(store, monkeypatch)
    assert shown_verdicts(leaderboard_rows(app)) == {where: verdict_text(c) for where, c in settings(store).items()}
    for page in PAGES:
        app.switch_page(page).run()
        assert not app.exception and not app.error, page


def test_new_runs_show_up_on_the_next_rerun(tmp_path, monkeypatch):
    store = synthetic_grid_store(tmp_path / "suite.db")
    before = _data.store_stamp(store)
    app = open_app(store, monkeypatch)
    assert key("unet+ese") not in set(leaderboard_rows(app)["variant"])
    add_variant(store, "shapes", "unet+ese", gain=0.03)
    assert _data.store_stamp(store) != before  # the cache key changes with the database or its WAL
    app.run()
    assert key("unet+ese") in set(leaderboard_rows(app)["variant"])


def test_pareto_front_matches_its_definition():
    rng = np.random.default_rng(3)
    for _ in range(50):
        n = int(rng.integers(1, 12))
        cost = pd.Series(rng.integers(0, 5, n).astype(float))
        gain = pd.Series(rng.integers(-3, 4, n).astype(float))
        cost[rng.random(n) < 0.1] = np.nan
        front = _tables.pareto_front(cost, gain)
        for i in range(n):
            beaten = any(
                cost[j] <= cost[i] and gain[j] >= gain[i] and (cost[j] < cost[i] or gain[j] > gain[i]) for j in range(n)
            )
            assert front[i] == (not beaten and not np.isnan(cost[i])), (list(cost), list(gain), i)


def test_a_variant_that_cannot_be_rebuilt_still_shows_its_insertions(grid_store):
    spec = key("unet+se@dec1,dec2:residual+cbam@enc1")
    with pytest.raises(SuiteError, match="no-such-dataset"):
        _spec.placements(spec, "no-such-dataset", read_runs(grid_store)["recipe"].iloc[0])
    rows = _spec.insertions(spec)
    assert list(rows["module"]) == [ins.module for ins in parse(spec).insertions]
    assert list(rows["points"]) == [", ".join(ins.points) for ins in parse(spec).insertions]
    assert list(rows["mode"]) == ["residual", "after"]  # the default mode a canonical spec leaves out


def test_csv_keeps_every_row_at_full_precision_with_units(grid_store):
    report = build_report(read_runs(grid_store, status=None))
    table = _tables.leaderboard(report, read_runs(grid_store), None)
    csv = pd.read_csv(io.BytesIO(_tables.to_csv(table)))
    assert list(csv["variant"]) == list(table["variant"])
    assert np.allclose(csv["gain"].dropna(), table["gain"].dropna(), rtol=0, atol=0)
    assert sorted(csv["p_adjusted"].dropna()) == sorted(c.p_adjusted for c in report.comparisons if c.has_stats)
    assert set(csv["metric_unit"]) == {metric_info(m).unit for m in table["metric"]}


def _env_with_root() -> dict[str, str]:
    """This environment with the repository first on PYTHONPATH (the package is run from the checkout)."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_dashboard_command_serves_the_app_on_localhost_with_the_store(tmp_path, monkeypatch):
    from suite.cli import app
    from suite.commands import dashboard

    calls = []

    def exec_instead(executable: str, argv: list[str], env: dict[str, str]) -> None:
        calls.append((argv, env))
        raise SystemExit(0)  # a real exec never returns: the process becomes the server

    monkeypatch.setattr(dashboard.os, "execve", exec_instead)
    monkeypatch.chdir(tmp_path)
    port = _free_port()
    result = CliRunner().invoke(app, ["dashboard", "--store", "runs.db", "--port", str(port)])
    assert result.exit_code == 0, result.output
    argv, env = calls[0]
    assert argv[argv.index("run") + 1] == str(APP)
    assert argv[argv.index("--server.address") + 1] == "127.0.0.1"
    assert argv[argv.index("--server.port") + 1] == str(port)
    assert env["SUITE_STORE"] == str(tmp_path / "runs.db")
    assert str(ROOT) in env["PYTHONPATH"].split(":")


def test_dashboard_command_refuses_a_busy_port_in_one_line(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "suite", "dashboard", "--store", str(tmp_path / "x.db"), "--port", str(port)],
            capture_output=True, text=True, cwd=ROOT, env=_env_with_root(), timeout=60,
        )  # fmt: skip
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and f"127.0.0.1:{port}" in lines[0] and "--port" in lines[0]
