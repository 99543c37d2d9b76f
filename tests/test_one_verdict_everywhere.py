"""One store, one verdict in every view: ``suite compare``, the summary after ``suite run``, every
``suite report`` format and the dashboard show the same verdict, p and 95% CI for each variant.

The store is a real SQLite store holding a grid planned the way ``suite run`` plans it (real split
manifest, recipe and job keys on the synthetic shapes set, its study recorded), with SYNTHETIC
metrics written per job instead of training: one variant per verdict and one whose run failed, so
its comparison is refused. Every view is read back as a user sees it (terminal text, report files,
the dashboard's tables) and checked against ``suite.verdict.compare`` on the same runs, for the
ad-hoc family and for the study's. A second store adds an unrelated variant: the study's verdicts
and p stay, the ad-hoc family grows.
"""

from __future__ import annotations

import html
import io
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from suite.cli import app as cli
from suite.grid import GridRequest, plan
from suite.records import RunRecord
from suite.reports._format import ci, p_value
from suite.reports.style import VERDICT_STYLES
from suite.runner import GridOutcome, grid_study_of
from suite.spec import compact, key
from suite.store import Store, read_runs
from suite.verdict import Comparison, compare
from suite.verdict_names import INCONCLUSIVE

APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
FORMATS = ("md", "json", "latex", "html")
K, SEEDS = 5, 2
GAINS = {  # variant -> (gain in Dice, sd of its fold effect); the verdict each is drawn to give
    "unet+se": (0.050, 0.004),  # holds (>= delta)
    "unet+scse": (0.013, 0.0012),  # holds
    "unet+eca": (0.0005, 0.0005),  # no practical gain
    "unet+coord": (0.010, 0.040),  # inconclusive
    "unet+gc": (-0.004, 0.0005),  # small loss
    "unet+cbam": (-0.050, 0.004),  # worse
    "unet+ge": (0.020, 0.004),  # one run failed: refused
}
FAILED_SPEC, FAILED_CELL = "unet+ge", (3, 1)
UNRELATED = ("unet+sk", (0.0, 0.003))  # added later, outside the study


@dataclass(frozen=True)
class Shown:
    """What a view shows for one variant: the verdict label, and p and the 95% CI as formatted text."""

    verdict: str
    p: str
    ci: str
    text: str | None = None  # the verdict as worded in full, where the view words it (not LaTeX's marks)


@dataclass(frozen=True)
class Built:
    path: Path
    study_name: str
    outcome: GridOutcome


def _records(grid, specs: dict[str, tuple[float, float]], rng: np.random.Generator) -> list[RunRecord]:
    """A record per planned job of ``specs`` (and the baseline) with a Dice drawn around the baseline's."""
    base_jobs = [job for job in grid.jobs if job.spec == grid.baselines[0]]
    fold_level = 0.8 + rng.normal(0, 0.02, size=K)
    records = []
    for spec, (gain, sd) in {grid.baselines[0]: (0.0, 0.0), **specs}.items():
        spec = key(spec)  # canonical, as suite run stores it
        effect = gain + rng.normal(0, sd, size=K)
        for job in base_jobs:
            job = replace(job, spec=spec)
            dice = float(fold_level[job.fold] + effect[job.fold] + rng.normal(0, 0.001))
            failed = spec == key(FAILED_SPEC) and (job.fold, job.seed) == FAILED_CELL
            records.append(
                RunRecord(
                    key=job.key, spec=spec, baseline=grid.baselines[0], dataset=job.dataset,
                    manifest_hash=job.manifest_hash, k=job.k, fold=job.fold, seeds=job.seeds, recipe=job.recipe,
                    recipe_hash=job.recipe_hash, status="failed" if failed else "done",
                    error="RuntimeError: CUDA out of memory (synthetic)" if failed else None,
                    metrics={} if failed else {"dice": dice, "iou": dice / (2 - dice)},
                    n_train=192, n_val=48, params=1_900_000 + 2_000 * len(spec), gmacs=1.2, latency_ms=3.0,
                    wall_s=1.0, device="cpu", provenance={"versions": {"suite": "synthetic"}, "git_commit": "0d15ea5e"},
                )
            )  # fmt: skip
    return records


def build_store(path: Path, grid, request: GridRequest, unrelated: bool) -> Built:
    """The planned grid's runs and its study (as ``suite run`` records it), optionally the unrelated variant."""
    rng = np.random.default_rng(2024)
    with Store(path) as store:
        study = store.add_study(grid_study_of(request, grid))
        for record in _records(grid, GAINS, rng):
            store.write(record)
        if unrelated:
            spec, effect = UNRELATED
            for record in _records(grid, {spec: effect}, np.random.default_rng(7)):
                if not store.has(record.key):
                    store.write(record)
    outcome = GridOutcome(grid, study, trained=0, skipped=len(grid.jobs), failed=1, store_path=str(path))
    return Built(path, study.name, outcome)


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> tuple[Built, Built]:
    request = GridRequest(list(GAINS), dataset="shapes", folds=K, seeds=SEEDS)
    grid = plan(request)  # the real manifest, recipe and job keys of this grid
    folder = tmp_path_factory.mktemp("one-verdict")
    return build_store(folder / "before.db", grid, request, False), build_store(folder / "after.db", grid, request, True)


def expected(built: Built, study: bool) -> dict[str, Comparison]:
    from suite.store import read_studies
    from suite.studies.record import find_study

    runs = read_runs(built.path, status=None)
    family = find_study(read_studies(built.path), built.study_name).plan() if study else None
    return {c.variant: c for c in compare(runs, plan=family)}


def shown_by_model(comp: Comparison) -> Shown:
    from suite.reports._common import verdict_text

    return Shown(comp.verdict, p_value(comp.shown_p), ci(comp.ci95, comp.metric), verdict_text(comp))


def check(view: str, shown: dict[str, Shown], comps: dict[str, Comparison]) -> None:
    """``shown`` names every variant once, with the verdict, p and CI of its comparison (numbers checked too)."""
    assert set(shown) == set(comps), view
    for variant, comp in comps.items():
        seen, model = shown[variant], shown_by_model(comp)
        assert (seen.verdict, seen.p, seen.ci) == (model.verdict, model.p, model.ci), (view, variant)
        assert seen.text in (None, model.text), (view, variant, seen.text)
        if comp.shown_p is None:
            assert comp.reason is not None and seen.p == "–" and seen.ci == "–", (view, variant)
            continue
        assert seen.p == "<0.001" and comp.p_adjusted < 0.001 or abs(float(seen.p) - comp.p_adjusted) <= 5e-4
        low, high = (float(x) for x in seen.ci.strip("[]").split(", "))
        assert low == pytest.approx(comp.ci95[0], abs=5e-5) and high == pytest.approx(comp.ci95[1], abs=5e-5)


# ---- reading each view back ------------------------------------------------------------------------------


def _label(text: str) -> str:
    """The verdict label of a worded verdict: ``inconclusive (MDE 0.0123)`` -> inconclusive."""
    return next(label for label in sorted(VERDICT_STYLES, key=len, reverse=True) if text.startswith(label))


def _from_cells(verdict: str, p: str, gain_ci: str) -> Shown:
    return Shown(_label(verdict), p, gain_ci.partition(" ")[2] or gain_ci, verdict)


def read_terminal(text: str, comps: dict[str, Comparison]) -> dict[str, Shown]:
    """The wide verdict table: variant, k×r, mean ± sd, gain [95% CI], p, won, posterior, verdict, cost."""
    by_compact = {compact(variant): variant for variant in comps}
    shown = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip("│ ").split("│")]
        if cells[0] in by_compact:
            shown[by_compact[cells[0]]] = _from_cells(cells[7], cells[4], cells[3])
    return shown


def read_markdown(text: str) -> dict[str, Shown]:
    shown = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip("| ").split(" | ")]
        if len(cells) > 8 and cells[0].startswith("`") and "+" in cells[0]:
            verdict = re.sub(r"^\S+ \*\*(.*)\*\*$", r"\1", cells[7])  # emoji **holds** -> holds
            shown[cells[0].strip("`")] = _from_cells(verdict, cells[4], cells[3])
    return shown


def read_html(text: str) -> dict[str, Shown]:
    shown = {}
    for variant, row in re.findall(r"<tr[^>]*><td><code>([^<]*\+[^<]*)</code></td>(.*?)</tr>", text):
        cells = [html.unescape(re.sub(r"<[^>]+>", "", cell)) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        shown[html.unescape(variant)] = _from_cells(cells[6], cells[3], cells[2])
    return shown


def read_latex(text: str) -> dict[str, Shown]:
    marks = {look.latex: label for label, look in VERDICT_STYLES.items()}
    plain = {"$-$": "-", "$<$": "<", "$>$": ">", "--": "–", r"\_": "_"}
    shown = {}
    for line in text.splitlines():
        if not line.startswith(r"\quad\texttt{"):
            continue
        cells = [cell.strip() for cell in line.removesuffix(r" \\").split(" & ")]
        for latex, text_form in plain.items():
            cells = [cell.replace(latex, text_form) for cell in cells]
        verdict = INCONCLUSIVE if cells[6] == "refused" else marks[cells[6]]
        variant = cells[0].removeprefix(r"\quad\texttt{").removesuffix("}")
        shown[variant] = Shown(verdict, cells[3], cells[2].partition(" ")[2] or cells[2])
    return shown


def read_json(text: str) -> dict[str, Shown]:
    document = json.loads(text)
    shown = {}
    for comp in document["comparisons"]:
        model = Comparison(**{k: v for k, v in comp.items() if k not in ("unit", "setting")})
        model.ci95 = tuple(comp["ci95"]) if comp["ci95"] else None
        shown[comp["variant"]] = Shown(comp["verdict"], p_value(model.shown_p), ci(model.ci95, comp["metric"]))
    return shown


def invoke(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), env={"COLUMNS": "320"}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def report(built: Built, fmt: str, study: bool, tmp_path: Path) -> str:
    out = tmp_path / f"report-{study}.{fmt}"
    invoke("report", "--store", str(built.path), "--format", fmt, "--out", str(out), *(["--study", built.study_name] if study else []))
    return out.read_text(encoding="utf-8")


def read_report(fmt: str, text: str, comps: dict[str, Comparison]) -> dict[str, Shown]:
    return {"md": read_markdown, "json": read_json, "latex": read_latex, "html": read_html}[fmt](text)


def summary_after_run(built: Built, monkeypatch) -> str:
    """What ``suite run`` prints at the end of this grid (``_summarize`` of its outcome)."""
    from suite.commands import run

    buffer = io.StringIO()
    monkeypatch.setattr(run, "console", Console(file=buffer, width=320, color_system=None))
    run._summarize(built.outcome)
    return buffer.getvalue()


# ---- the tests -------------------------------------------------------------------------------------------


def test_the_store_holds_several_verdicts_and_a_refusal_for_a_failed_run(stores):
    before, _ = stores
    for study in (False, True):
        comps = expected(before, study)
        assert len({c.verdict for c in comps.values() if c.reason is None}) >= 5
        (refused,) = [c for c in comps.values() if c.reason is not None]
        assert refused.variant == key(FAILED_SPEC)
        assert "failed" in refused.reason and "missing cells" not in refused.reason
    ad_hoc, planned = expected(before, False), expected(before, True)
    assert {c.family_size for c in ad_hoc.values()} == {len(GAINS) - 1}  # the refused one is not tested
    assert {c.family_size for c in planned.values()} == {len(GAINS)}  # the study counts it as p = 1
    assert any(ad_hoc[v].p_adjusted != planned[v].p_adjusted for v in ad_hoc if ad_hoc[v].has_stats)


@pytest.mark.parametrize("study", [False, True], ids=["ad-hoc", "study"])
def test_compare_and_every_report_format_show_the_same_verdict_p_and_ci(stores, study, tmp_path):
    built, _ = stores
    comps = expected(built, study)
    family = ["--study", built.study_name] if study else []
    views = {"compare": read_terminal(invoke("compare", "--store", str(built.path), *family), comps)}
    views["compare --json"] = read_json(invoke("compare", "--store", str(built.path), "--json", *family))
    for fmt in FORMATS:
        views[f"report {fmt}"] = read_report(fmt, report(built, fmt, study, tmp_path), comps)
    for view, shown in views.items():
        check(view, shown, comps)
    document = json.loads(invoke("compare", "--store", str(built.path), "--json", *family))
    for comp in document["comparisons"]:  # the JSON carries the numbers themselves
        model = comps[comp["variant"]]
        assert (comp["verdict"], comp["p_adjusted"], comp["ci95"]) == (model.verdict, model.p_adjusted, list(model.ci95) if model.ci95 else None)
    first, *others = views.values()
    assert all({v: (s.verdict, s.p, s.ci) for v, s in shown.items()} == {v: (s.verdict, s.p, s.ci) for v, s in first.items()} for shown in others)


def test_the_summary_after_suite_run_is_compare_with_the_study(stores, monkeypatch):
    built, _ = stores
    comps = expected(built, study=True)
    summary = summary_after_run(built, monkeypatch)
    check("suite run summary", read_terminal(summary, comps), comps)
    assert read_terminal(summary, comps) == read_terminal(invoke("compare", "--store", str(built.path), "--study", built.study_name), comps)
    assert f"grid {built.study_name}" in " ".join(summary.split())  # the family is named


def test_the_dashboard_shows_the_same_verdict_p_and_ci(stores, monkeypatch):
    built, _ = stores
    comps = expected(built, study=False)
    monkeypatch.setenv("SUITE_STORE", str(built.path))
    app = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not app.exception, [e.message for e in app.exception]
    rows = app.dataframe[0].value
    variants = rows[rows["verdict_text"] != "baseline"]
    board = {
        row.variant: Shown(_label(row.verdict_text), row.p_text, row.ci95, row.verdict_text)
        for row in variants.itertuples()
    }
    check("dashboard leaderboard", board, comps)
    refused = variants[variants["verdict_text"] == "inconclusive (refused)"]
    assert len(refused) == 1 and "failed" in refused["reason"].iloc[0] and "missing cells" not in refused["reason"].iloc[0]

    app.switch_page("views/variant.py").run()
    picker = app.selectbox(key="variant_choice")
    page = {}
    for index, option in enumerate(picker.options):
        app.selectbox(key="variant_choice").set_value(index).run()
        assert not app.exception, [e.message for e in app.exception]
        variant = option.split("  ·  ")[0]
        metrics = {m.label: m.value for m in app.metric}
        captions = " ".join(c.value for c in app.main.caption)
        interval = re.search(r"95% CI of the gain (\[[^]]+\])", captions)
        page[variant] = Shown(
            _label(metrics["Verdict"]), metrics.get("p (two-sided, Holm)", "–"), interval[1] if interval else "–", metrics["Verdict"]
        )
        if comps[variant].reason is not None:
            assert "failed" in app.warning[0].value and "missing cells" not in app.warning[0].value
        else:
            assert f"({comps[variant].family_size} comparisons)" in captions
    check("dashboard variant page", page, comps)
    assert {v: (s.verdict, s.p, s.ci) for v, s in page.items()} == {v: (s.verdict, s.p, s.ci) for v, s in board.items()}


def test_an_unrelated_variant_leaves_the_study_alone_and_joins_the_ad_hoc_family(stores, tmp_path):
    before, after = stores
    studied = {
        name: json.loads(invoke("compare", "--store", str(built.path), "--json", "--study", built.study_name))
        for name, built in (("before", before), ("after", after))
    }
    pick = ("variant", "verdict", "p", "p_adjusted", "ci95", "family", "family_size")
    assert [{k: c[k] for k in pick} for c in studied["before"]["comparisons"]] == [
        {k: c[k] for k in pick} for c in studied["after"]["comparisons"]
    ]
    for fmt in ("md", "latex"):  # the study's report text does not move either (but for its date and run count)
        assert read_report(fmt, report(before, fmt, True, tmp_path), {}) == read_report(fmt, report(after, fmt, True, tmp_path / "after"), {})
    ad_hoc_before, ad_hoc_after = expected(before, False), expected(after, False)
    unrelated = next(v for v in ad_hoc_after if v not in ad_hoc_before)
    assert unrelated == key(UNRELATED[0])
    assert {c.family_size for c in ad_hoc_after.values()} == {len(GAINS)}  # one more tested variant
    changed = [v for v in ad_hoc_before if ad_hoc_before[v].has_stats and ad_hoc_before[v].p_adjusted != ad_hoc_after[v].p_adjusted]
    assert changed  # Holm over a bigger family: the smallest p is multiplied by one more
    check("compare --json after", read_json(invoke("compare", "--store", str(after.path), "--json")), ad_hoc_after)
