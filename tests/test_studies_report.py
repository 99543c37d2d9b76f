"""A study shown again as one unit: ``suite compare --study`` and every ``suite report`` format render the same
position table, effects and fraction curve from the report model; the size and time estimate before training;
``--dry-run``. Stores are planned for real and filled with synthetic records (``_study_fixtures``)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from _study_fixtures import ablation_request, fractions_request, noisy, sweep_request, write_study
from suite.cli import app as cli
from suite.reports import FORMATS, _format
from suite.reports.json_document import SCHEMA_PATH
from suite.reports.model import build_report
from suite.reports.style import style
from suite.spec import key
from suite.store import read_runs, read_studies
from suite.studies.plan import describe_size, plan_study
from suite.studies.record import find_study
from suite.verdict import compare

DEC1 = key("unet+se@dec1")
ENC1_RESIDUAL = key("unet+se@enc1:residual")


def invoke(*args: str, columns: int = 200) -> str:
    result = CliRunner().invoke(cli, list(args), env={"COLUMNS": str(columns)}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    """A sweep (a gain planted at dec1, a loss at enc1 residual), an ablation and a small-data trial in one store."""
    path = tmp_path_factory.mktemp("studies") / "suite.db"
    write_study(path, sweep_request(groups=True), noisy({DEC1: 0.04, ENC1_RESIDUAL: -0.04}, seed=1), wall_s=12.0)
    write_study(path, ablation_request(), noisy({}, seed=2))
    write_study(path, fractions_request(), noisy({}, seed=3))
    return path


def _study(store: Path, kind: str):
    return next(s for s in read_studies(store) if s.kind == kind)


def test_the_position_table_holds_each_cells_verdict_in_the_studys_family(store):
    study = _study(store, "sweep")
    runs = read_runs(store, status=None)
    (table,) = build_report(runs, study=study).study.positions
    expected = {c.variant: c for c in compare(runs, plan=study.plan())}
    design = study.design["sweep"]
    assert len(table.cells) == len(design["cells"]) == len(expected)
    for cell in design["cells"]:
        comp = table.cells[(cell["position"], cell["column"])]
        assert (comp.verdict, comp.gain) == (expected[cell["variant"]].verdict, expected[cell["variant"]].gain)
        assert comp.family_size == len(expected)
    assert table.cells[("dec1", "se")].holds and table.cells[("enc1", "se:residual")].verdict == "worse"
    best = table.summaries()[0]
    assert best.startswith("se: best point dec1, " + _format.gain_ci(table.cells[("dec1", "se")]))
    holding = sum(c.holds for (_, column), c in table.cells.items() if column == "se")
    assert best.endswith(f"{holding} of {sum(col == 'se' for _, col in table.cells)} positions hold")


def test_compare_study_prints_the_position_table_and_summary(store):
    study = _study(store, "sweep")
    text = invoke("compare", "--store", str(store), "--study", study.name)
    table = build_report(read_runs(store, status=None), study=study).study.positions[0]
    assert "Position sweep · shapes · dice" in text and "dec1 (/1)" in text
    for comp in table.cells.values():
        assert f"{_format.gain_ci(comp)} {style(comp.verdict).mark}" in text
    for line in table.summaries():
        assert line in " ".join(text.split())
    assert invoke("compare", "--store", str(store), "--study", study.id[:6]) == text  # by id prefix too


@pytest.mark.parametrize("kind", ["sweep", "ablation", "fractions"])
def test_every_report_format_renders_the_studys_tables(store, kind, tmp_path):
    study = _study(store, kind)
    view = build_report(read_runs(store, status=None), study=study).study
    documents = {}
    for fmt in FORMATS:
        out = tmp_path / f"report.{fmt}"
        invoke("report", "--store", str(store), "--study", study.name, "--format", fmt, "--out", str(out))
        documents[fmt] = out.read_text(encoding="utf-8")
    document = json.loads(documents["json"])
    jsonschema.validate(document, json.loads(SCHEMA_PATH.read_text()))
    assert document["study"]["name"] == study.name and document["study"]["summary"] == view.summaries()
    gains = {
        "sweep": [c.gain for t in view.positions for c in t.cells.values()],
        "ablation": [e.gain for t in view.effects for e in t.effects],
        "fractions": [p.comparison.gain for c in view.curves for p in c.points],
    }[kind]
    assert gains and all(g is not None for g in gains)
    shown = json.dumps(document["study"])
    assert all(json.dumps(g) in shown for g in gains)  # the numbers themselves, not rounded
    texts = {
        "sweep": [_format.gain_ci(c) for t in view.positions for c in t.cells.values()],
        "ablation": [_format.gain_ci(e) for t in view.effects for e in t.effects],
        "fractions": [_format.gain_ci(p.comparison) for c in view.curves for p in c.points],
    }[kind]
    for fmt in ("md", "html"):
        assert all(text in documents[fmt] for text in texts), fmt
    latex = documents["latex"].replace("$-$", "-")
    assert all(text.replace("−", "-") in latex for text in texts)
    for line in view.summaries():
        assert line in documents["md"]


def test_a_study_is_found_by_name_id_or_their_start_and_a_wrong_one_is_named(store):
    studies = read_studies(store)
    sweep = _study(store, "sweep")
    assert find_study(studies, sweep.name) == find_study(studies, sweep.id[:8]) == find_study(studies, "sweep")
    with pytest.raises(Exception, match="is not a study in the store; studies in the store: "):
        find_study(studies, "nonsense")


def test_the_size_line_counts_stored_runs_and_estimates_from_their_wall_times(store, tmp_path):
    request = sweep_request()
    planned = plan_study(request)
    line, todo = describe_size(planned, str(store))
    assert todo == 0 and f"= {len(planned.jobs)} runs, {len(planned.jobs)} of them in the store" in line
    line, todo = describe_size(planned, str(tmp_path / "none.db"))
    assert todo == len(planned.jobs) and "no time estimate" in line
    wider = sweep_request()
    wider.grid.variants.append(key("unet+se@dec2"))
    planned = plan_study(wider)
    line, todo = describe_size(planned, str(store))
    assert todo == 5 and "about 60 s at the stored wall times (same baseline and recipe)" in line  # 5 x 12 s


def test_dry_run_prints_the_size_and_creates_no_store(tmp_path):
    store = tmp_path / "new" / "suite.db"
    text = invoke("ablate", "unet+se@enc1+cbam@dec1", "--dataset", "shapes", "--folds", "3", "--image-size", "32",
                  "--store", str(store), "--dry-run")  # fmt: skip
    text = " ".join(text.split())  # suite run's console keeps the width it was made with
    assert "ablation ablation-" in text and "4 specs x 3 folds x 1 seed(s) x 1 fraction(s) = 12 runs" in text
    assert "dry run: nothing trained" in text and not store.parent.exists()


def test_the_curves_of_several_variants_share_one_table_per_dataset_and_metric(tmp_path):
    path = tmp_path / "suite.db"
    variants = (key("unet+se@dec1"), key("unet+cbam@dec1"))
    planned = write_study(path, fractions_request(variants), noisy({variants[0]: 0.03}, seed=4))
    view = build_report(read_runs(path, status=None), study=planned.study).study
    (group,) = view.curve_groups()  # the report's metric (dice) on shapes: one table for both variants
    assert [c.variant for c in group] == [c.variant for c in view.curves] and {c.variant for c in group} == set(variants)
    text = invoke("compare", "--store", str(path), "--study", planned.study.name)
    assert text.count("Gain by train fraction · shapes · dice") == 1
    md = invoke("report", "--store", str(path), "--study", planned.study.name, "--format", "md")
    assert md.count("| variant | fraction | n_train |") == 1
    for curve in view.curves:
        assert curve.summary() in " ".join(text.split()) and curve.summary() in md
        for point in curve.points:
            assert _format.gain_ci(point.comparison) in md
    table = md.split("| variant | fraction |")[1].split("\n\n")[0]
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == len(variants) * len(planned.grids)  # one row per (variant, fraction)
    labels = [row.split("|")[1].strip() for row in rows]
    assert labels == [_format.spec_label(v) for v in (c.variant for c in view.curves) for _ in planned.grids]
    narrow = invoke("compare", "--store", str(path), "--study", planned.study.name, columns=80)
    assert max(map(len, narrow.splitlines())) <= 80  # CI logs: a stacked table per variant, nothing cut off
    for curve in view.curves:
        assert f"Gain by train fraction · shapes · dice · {_format.spec_label(curve.variant)}" in narrow
        for point in curve.points:
            gain, ci = _format.gain_ci(point.comparison).split(" ", 1)
            assert gain in narrow and ci in narrow
            assert all(word in narrow.split() for word in point.comparison.verdict.split())  # folded at spaces only
