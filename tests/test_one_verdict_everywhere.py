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
from suite.reports._common import verdict_text
from suite.reports._format import ci, p_value
from suite.reports.style import VERDICT_STYLES
from suite.runner import GridOutcome, grid_study_of
from suite.spec import compact, key
from suite.store import Store, read_runs, read_studies
from suite.studies.record import find_study
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
    before = build_store(folder / "before.db", grid, request, unrelated=False)
    return before, build_store(folder / "after.db", grid, request, unrelated=True)


def expected(built: Built, study: bool) -> dict[str, Comparison]:
    """variant -> its comparison as ``suite.verdict.compare`` makes it: ad hoc, or in the study's family."""
    runs = read_runs(built.path, status=None)
    family = find_study(read_studies(built.path), built.study_name).plan() if study else None
    return {c.variant: c for c in compare(runs, plan=family)}


def check(view: str, shown: dict[str, Shown], comps: dict[str, Comparison]) -> None:
    """``shown`` names every variant once, with the verdict, p and CI of its comparison (numbers checked too)."""
    assert set(shown) == set(comps), view
    for variant, comp in comps.items():
        seen = shown[variant]
        model = (comp.verdict, p_value(comp.shown_p), ci(comp.ci95, comp.metric))
        assert (seen.verdict, seen.p, seen.ci) == model, (view, variant)
        assert seen.text in (None, verdict_text(comp)), (view, variant, seen.text)
        if comp.shown_p is None:  # refused: no p, no CI, and the reason names the failed run
            assert "failed" in comp.reason and (seen.p, seen.ci) == ("–", "–"), (view, variant)
            continue
        assert (seen.p == "<0.001" and comp.p_adjusted < 0.001) or abs(float(seen.p) - comp.p_adjusted) <= 5e-4
        low, high = (float(x) for x in seen.ci.strip("[]").split(", "))
        assert (low, high) == pytest.approx(comp.ci95, abs=5e-5), (view, variant)


def same(*views: dict[str, Shown]) -> bool:
    """Whether the views show the same verdict, p and CI for every variant."""
    first, *others = [{v: (s.verdict, s.p, s.ci) for v, s in view.items()} for view in views]
    return all(other == first for other in others)


# ---- reading each view back as a user sees it --------------------------------------------------------------


def _label(text: str) -> str:
    """The verdict label of a worded verdict: ``inconclusive (MDE 0.0123)`` -> inconclusive."""
    return next(label for label in sorted(VERDICT_STYLES, key=len, reverse=True) if text.startswith(label))


def _from_cells(verdict: str, p: str, gain_ci: str) -> Shown:
    """From the cells of a verdict table: the verdict as worded, p, and ``+0.0500 [+0.0437, +0.0609]``."""
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
            verdict = re.sub(r"^\S+ \*\*(.*)\*\*$", r"\1", cells[7])  # ✅ **holds** -> holds
            shown[cells[0].strip("`")] = _from_cells(verdict, cells[4], cells[3])
    return shown


def read_html(text: str) -> dict[str, Shown]:
    shown = {}
    for variant, row in re.findall(r"<tr[^>]*><td><code>([^<]*\+[^<]*)</code></td>(.*?)</tr>", text):
        cells = [html.unescape(re.sub(r"<[^>]+>", "", cell)) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        shown[html.unescape(variant)] = _from_cells(cells[6], cells[3], cells[2])
    return shown


def read_latex(text: str) -> dict[str, Shown]:
    """The booktabs rows; the verdict is a mark there (or "refused"), p and CI in math-mode minus signs."""
    marks = {look.latex: label for label, look in VERDICT_STYLES.items()}
    plain = {"$-$": "-", "$<$": "<", "$>$": ">", "--": "–", r"\_": "_"}
    shown = {}
    for line in text.splitlines():
        if not line.startswith(r"\quad\texttt{"):
            continue
        cells = [cell.strip() for cell in line.removesuffix(r" \\").split(" & ")]
        for latex, plain_text in plain.items():
            cells = [cell.replace(latex, plain_text) for cell in cells]
        verdict = INCONCLUSIVE if cells[6] == "refused" else marks[cells[6]]
        variant = cells[0].removeprefix(r"\quad\texttt{").removesuffix("}")
        shown[variant] = Shown(verdict, cells[3], cells[2].partition(" ")[2] or cells[2])
    return shown


def read_json(text: str) -> dict[str, Shown]:
    shown = {}
    for comp in json.loads(text)["comparisons"]:
        p = comp["p_adjusted"] if comp["reason"] is None else None
        interval = tuple(comp["ci95"]) if comp["ci95"] else None
        shown[comp["variant"]] = Shown(comp["verdict"], p_value(p), ci(interval, comp["metric"]))
    return shown


READERS = {"md": read_markdown, "json": read_json, "latex": read_latex, "html": read_html}


def invoke(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), env={"COLUMNS": "320"}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def compare_text(built: Built, *options: str) -> str:
    return invoke("compare", "--store", str(built.path), *options)


def report(built: Built, fmt: str, study: bool, folder: Path) -> dict[str, Shown]:
    """``suite report --format fmt --out FILE`` (in the study's family or ad hoc), read back from the file."""
    out = folder / f"report-{study}.{fmt}"
    family = ["--study", built.study_name] if study else []
    invoke("report", "--store", str(built.path), "--format", fmt, "--out", str(out), *family)
    return READERS[fmt](out.read_text(encoding="utf-8"))


def summary_after_run(built: Built, monkeypatch) -> str:
    """What ``suite run`` prints at the end of this grid (``_summarize`` of its outcome)."""
    from suite.commands import run

    buffer = io.StringIO()
    monkeypatch.setattr(run, "console", Console(file=buffer, width=320, color_system=None))
    run._summarize(built.outcome)
    return buffer.getvalue()


# ---- the tests ---------------------------------------------------------------------------------------------


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
    views = {
        "compare": read_terminal(compare_text(built, *family), comps),
        "compare --json": read_json(compare_text(built, "--json", *family)),
        **{f"report {fmt}": report(built, fmt, study, tmp_path) for fmt in FORMATS},
    }
    for view, shown in views.items():
        check(view, shown, comps)
    assert same(*views.values())
    for comp in json.loads(compare_text(built, "--json", *family))["comparisons"]:  # the numbers themselves
        model = comps[comp["variant"]]
        assert (comp["verdict"], comp["p_adjusted"]) == (model.verdict, model.p_adjusted)
        assert comp["ci95"] == (list(model.ci95) if model.ci95 else None)


def test_the_summary_after_suite_run_is_compare_with_the_study(stores, monkeypatch):
    built, _ = stores
    comps = expected(built, study=True)
    summary = read_terminal(summary_after_run(built, monkeypatch), comps)
    check("suite run summary", summary, comps)
    assert summary == read_terminal(compare_text(built, "--study", built.study_name), comps)
    assert f"grid {built.study_name}" in " ".join(summary_after_run(built, monkeypatch).split())  # family named


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
    (reason,) = variants.loc[variants["verdict_text"] == "inconclusive (refused)", "reason"]
    assert "failed" in reason and "missing cells" not in reason

    app.switch_page("views/variant.py").run()
    page = {}
    for index, option in enumerate(app.selectbox(key="variant_choice").options):
        app.selectbox(key="variant_choice").set_value(index).run()
        assert not app.exception, [e.message for e in app.exception]
        variant = option.split("  ·  ")[0]
        metrics = {m.label: m.value for m in app.metric}
        captions = " ".join(c.value for c in app.main.caption)
        interval = re.search(r"95% CI of the gain (\[[^]]+\])", captions)
        page[variant] = Shown(
            _label(metrics["Verdict"]),
            metrics.get("p (two-sided, Holm)", "–"),
            interval[1] if interval else "–",
            metrics["Verdict"],
        )
        if comps[variant].reason is not None:
            assert "failed" in app.warning[0].value and "missing cells" not in app.warning[0].value
        else:
            assert f"({comps[variant].family_size} comparisons)" in captions
    check("dashboard variant page", page, comps)
    assert same(page, board)


def test_an_unrelated_variant_leaves_the_study_alone_and_joins_the_ad_hoc_family(stores, tmp_path, monkeypatch):
    before, after = stores
    fields = ("variant", "verdict", "p", "p_adjusted", "ci95", "family", "family_size")
    documents = [json.loads(compare_text(built, "--json", "--study", built.study_name)) for built in (before, after)]
    studied = [[{name: c[name] for name in fields} for c in document["comparisons"]] for document in documents]
    assert studied[0] == studied[1]
    comps = expected(after, study=True)
    assert same(*(read_terminal(summary_after_run(built, monkeypatch), comps) for built in (before, after)))
    for fmt in ("md", "latex", "html"):
        assert same(report(before, fmt, True, tmp_path), report(after, fmt, True, tmp_path / "after"))
    ad_hoc_before, ad_hoc_after = expected(before, False), expected(after, False)
    assert set(ad_hoc_after) - set(ad_hoc_before) == {key(UNRELATED[0])}
    assert {c.family_size for c in ad_hoc_after.values()} == {len(GAINS)}  # one more tested variant
    moved = [v for v, c in ad_hoc_before.items() if c.has_stats and c.p_adjusted != ad_hoc_after[v].p_adjusted]
    assert moved  # Holm over a bigger family: at least the smallest p is multiplied by one more
    check("compare --json after", read_json(compare_text(after, "--json")), ad_hoc_after)
