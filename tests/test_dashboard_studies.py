"""The dashboard's Studies page under ``AppTest``: the studies of a store listed, a sweep as a heatmap of its cells,
an ablation as effect bars, a small-data trial as gain against fraction, and a click-through to the Variant page.
What each chart holds is read from the report model (``build_report(..., study=...)``), never written here."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from _study_fixtures import ablation_request, fractions_request, noisy, sweep_request, write_study
from suite.reports import _format
from suite.reports.model import build_report
from suite.reports.style import style
from suite.spec import key
from suite.store import read_runs, read_studies
from test_dashboard import chart_data, open_app


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("dashboard-studies") / "suite.db"
    write_study(path, sweep_request(), noisy({key("unet+se@dec1"): 0.04}, seed=1))
    write_study(path, ablation_request(), noisy({}, seed=2))
    write_study(path, fractions_request(), noisy({}, seed=3))
    return path


def studies_page(store: Path, monkeypatch, kind: str | None = None) -> AppTest:
    app = open_app(store, monkeypatch, "views/studies.py")
    if kind is not None:
        picker = app.selectbox(key="study_choice")
        picker.set_value(next(i for i, label in enumerate(picker.options) if label.endswith(f"({kind})"))).run()
        assert not app.exception, [e.message for e in app.exception]
    return app


def _view(store: Path, kind: str):
    study = next(s for s in read_studies(store) if s.kind == kind)
    return study, build_report(read_runs(store, status=None), study=study).study


def test_the_page_lists_every_study_of_the_store(store, monkeypatch):
    app = studies_page(store, monkeypatch)
    listed = app.dataframe[0].value  # the list of studies comes first
    studies = read_studies(store)
    assert sorted(listed["name"]) == sorted(s.name for s in studies)
    assert dict(zip(listed["name"], listed["kind"])) == {s.name: s.kind for s in studies}


def test_a_sweep_is_a_heatmap_of_its_cells_with_verdict_marks(store, monkeypatch):
    study, view = _view(store, "sweep")
    app = studies_page(store, monkeypatch, "sweep")
    assert app.subheader[0].value == view.title
    (table,) = view.positions
    (datasets,) = chart_data(app)
    cells = next(d for d in datasets if "mark" in d)
    assert len(cells) == len(table.cells)
    shown = {(row.position.split(" ")[0], row.column): row for row in cells.itertuples()}
    for (position, column), comp in table.cells.items():
        row = shown[(position, column)]
        assert row.gain == pytest.approx(comp.gain) and row.mark == style(comp.verdict).mark
        assert row.ci_text == _format.gain_ci(comp) and row.params_text == _format.params_added(comp)
    markdown = " ".join(m.value for m in app.markdown)
    assert all(line in markdown for line in table.summaries())


def test_an_ablation_is_effect_bars_with_their_cis(store, monkeypatch):
    _, view = _view(store, "ablation")
    app = studies_page(store, monkeypatch, "ablation")
    (table,) = view.effects
    (datasets,) = chart_data(app)
    bars = next(d for d in datasets if "effect_label" in d)
    assert len(bars) == len(table.effects)
    for effect, row in zip(table.effects, bars.itertuples()):
        assert row.gain == pytest.approx(effect.gain) and row.ci95_lo == pytest.approx(effect.ci95[0])
        assert row.reading == effect.reading
    listed = app.dataframe[1].value  # after the list of studies
    assert list(listed["verdict"]) == [effect.reading for effect in table.effects]


def test_a_small_data_trial_is_gain_against_fraction_with_its_ci_band(store, monkeypatch):
    _, view = _view(store, "fractions")
    app = studies_page(store, monkeypatch, "fractions")
    (curve,) = view.curves
    (datasets,) = chart_data(app)
    points = next(d for d in datasets if "fraction" in d)
    assert list(points["fraction"]) == [p.fraction for p in curve.points]
    assert list(points["ci95_hi"]) == pytest.approx([p.comparison.ci95[1] for p in curve.points])
    assert curve.summary() in " ".join(m.value for m in app.markdown)


def test_a_cell_opens_on_the_variant_page(store, monkeypatch):
    app = studies_page(store, monkeypatch, "sweep")
    picker = app.selectbox(key="sweep_variant_0")
    chosen = next(i for i, label in enumerate(picker.options) if label.startswith("unet+se@dec1 "))
    picker.set_value(chosen).run()
    app.button(key="sweep_variant_0_open").click().run()
    assert not app.exception and app.title[0].value == "Variant"
    opened = app.selectbox(key="variant_choice")
    assert " ".join(opened.options[opened.index].split()).startswith(f"{key('unet+se@dec1')} · shapes")


def test_a_store_without_studies_says_how_to_make_one(tmp_path, monkeypatch):
    from _dashboard_fixtures import synthetic_grid_store

    app = open_app(synthetic_grid_store(tmp_path / "suite.db"), monkeypatch, "views/studies.py")
    assert app.title[0].value == "Studies" and "suite sweep" in app.info[0].value
