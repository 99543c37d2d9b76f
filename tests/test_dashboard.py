"""The Streamlit dashboard under ``AppTest`` (every page, a grid store, an empty, a missing and a corrupt
store), its table helpers, and the ``suite dashboard`` command line (without starting a server).

Expected variants and verdicts are never written here: they come from ``suite.verdict.compare`` on the
same store the app reads.
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

from _dashboard_fixtures import GRIDS, add_variant, real_tiny_grid_store, synthetic_grid_store
from suite.errors import SuiteError
from suite.spec import key, parse
from suite.store import read_runs
from suite.verdict import VERDICTS, compare

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboard" / "app.py"
PAGES = sorted(path.relative_to(APP.parent).as_posix() for path in (APP.parent / "views").glob("*.py"))
FILTERS = ("filter_dataset", "filter_baseline", "filter_module", "filter_point", "filter_verdict")

sys.path.insert(0, str(APP.parent))  # the app's helpers import each other by bare name, as Streamlit runs them
import _data  # noqa: E402
import _spec  # noqa: E402
import _tables  # noqa: E402


@pytest.fixture(scope="module")
def grid_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_grid_store(tmp_path_factory.mktemp("grid") / "suite.db")


@pytest.fixture(scope="module")
def expected(grid_store: Path) -> dict[tuple[str, str], str]:
    """(dataset, variant) -> verdict, as the verdict module computes it on the fixture store."""
    return {(c.dataset, c.variant): c.verdict for c in compare(read_runs(grid_store))}


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


def chart_data(app: AppTest) -> list[list[pd.DataFrame]]:
    """The data sets of every Vega-Lite chart on the page, decoded from Arrow."""
    charts = [el for el in app.main if getattr(el, "type", None) == "vega_lite_chart"]
    return [[pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in c.proto.datasets] for c in charts]


def test_the_router_registers_every_page_file(grid_store, monkeypatch):
    app = open_app(grid_store, monkeypatch)
    for page in PAGES:  # switch_page refuses a file st.navigation did not register
        app.switch_page(page)


def test_leaderboard_lists_every_variant_with_its_verdict(grid_store, expected, monkeypatch):
    rows = leaderboard_rows(open_app(grid_store, monkeypatch))
    variants = rows[rows["verdict"] != _tables.BASELINE]
    assert dict(zip(zip(variants["dataset"], variants["variant"]), variants["verdict"])) == expected
    baselines = rows[rows["verdict"] == _tables.BASELINE]
    assert sorted(baselines["variant"]) == sorted({g["baseline"] for g in GRIDS.values()})
    assert set(expected.values()) == set(VERDICTS)  # the fixture exercises every badge


def test_leaderboard_gain_and_ci_match_the_verdict(grid_store, monkeypatch):
    rows = leaderboard_rows(open_app(grid_store, monkeypatch)).set_index("variant")
    for comp in compare(read_runs(grid_store)):
        assert rows.loc[comp.variant, "gain"] == pytest.approx(comp.gain)
        assert rows.loc[comp.variant, "folds_won"] == f"{comp.folds_won}/{comp.n_folds}"
        lo, hi = comp.ci95
        assert rows.loc[comp.variant, "ci95"] == f"[{lo:+.3g}, {hi:+.3g}]"


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
    variants = rows[rows["verdict"] != _tables.BASELINE]
    column = {"filter_dataset": "dataset", "filter_baseline": "baseline", "filter_module": "module"}
    column |= {"filter_point": "points", "filter_verdict": "verdict"}
    checked = rows if key in ("filter_dataset", "filter_baseline") else variants  # baselines have no module
    assert all(option in _tables.split_labels(cell) for cell in checked[column[key]])
    baselines = rows[rows["verdict"] == _tables.BASELINE]
    for dataset, baseline in zip(baselines["dataset"], baselines["baseline"]):  # shown only with their variants
        assert ((variants["dataset"] == dataset) & (variants["baseline"] == baseline)).any()


def test_metric_and_delta_controls_recompute_the_verdicts(grid_store, monkeypatch):
    app = open_app(grid_store, monkeypatch)
    app.selectbox(key=_data.METRIC_KEY).set_value("iou")
    app.number_input(key=_data.DELTA_KEY).set_value(0.02).run()
    assert not app.exception
    rows = leaderboard_rows(app)
    variants = rows[rows["verdict"] != _tables.BASELINE]
    wanted = {(c.dataset, c.variant): c.verdict for c in compare(read_runs(grid_store), metric="iou", delta=0.02)}
    assert dict(zip(zip(variants["dataset"], variants["variant"]), variants["verdict"])) == wanted
    assert set(rows["metric"]) == {"IoU"}  # datasets without IoU (classification) drop out


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_the_grid_store(grid_store, monkeypatch, page):
    app = open_app(grid_store, monkeypatch, page)
    assert not app.error
    assert app.title[0].value == Path(page).stem.capitalize()


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


def test_variant_page_pairs_every_fold_and_seed(grid_store, monkeypatch):
    app = open_app(grid_store, monkeypatch, "views/variant.py")
    runs = read_runs(grid_store)
    picker = app.selectbox(key="variant_choice")
    for index in range(len(picker.options)):
        app.selectbox(key="variant_choice").set_value(index).run()
        assert not app.exception
        comp = compare(runs)[index]
        pairs = app.dataframe[0].value
        column = f"val_{comp.metric}"
        base = runs[runs["spec"] == comp.baseline].set_index(["fold", "seed"])[column]
        variant = runs[runs["spec"] == comp.variant].set_index(["fold", "seed"])[column]
        assert len(pairs) == comp.n_folds * comp.n_seeds
        for row in pairs.itertuples():
            assert row.baseline == pytest.approx(base[(row.fold, row.seed)])
            assert row.difference == pytest.approx(variant[(row.fold, row.seed)] - base[(row.fold, row.seed)])
        assert app.metric[0].value == comp.verdict
        paired_plot, *curves = chart_data(app)
        assert len(paired_plot[0]) == 2 * len(pairs)  # one baseline and one variant point per (fold, seed)
        assert len(curves) == 2  # validation metric and training loss
        placed = app.dataframe[1].value  # as rebuilt with build_variant: one row per (module, point)
        spec = parse(comp.variant)
        assert sorted(zip(placed["module"], placed["point"])) == sorted(
            (ins.module, point) for ins in spec.insertions for point in ins.points
        )
        assert (placed["channels"] > 0).all() and (placed["params added"] > 0).all()


def test_gains_page_plots_every_tested_variant_and_its_pareto_front(grid_store, monkeypatch):
    app = open_app(grid_store, monkeypatch, "views/gains.py")
    runs = read_runs(grid_store)
    for dataset in app.selectbox(key="gains_dataset").options:
        app.selectbox(key="gains_dataset").set_value(dataset).run()
        tested = [c for c in compare(runs[runs["dataset"] == dataset]) if c.gain is not None]
        forest, scatter = chart_data(app)
        forest_rows = next(data for data in forest if "variant" in data)
        assert sorted(forest_rows["variant"]) == sorted(c.variant for c in tested)
        cost = pd.Series([c.gmacs_added for c in tested])
        gain = pd.Series([c.gain for c in tested])
        dominated = [
            any((cost[j] <= cost[i]) & (gain[j] >= gain[i]) & ((cost[j] < cost[i]) | (gain[j] > gain[i])) for j in cost.index)
            for i in cost.index
        ]
        front = sorted(c.variant for c, beaten in zip(tested, dominated) if not beaten)
        assert app.main.caption[-1].value.endswith(f"{', '.join(front)}.")


@pytest.mark.slow
def test_every_page_renders_a_real_tiny_grid(tmp_path, monkeypatch):
    store = real_tiny_grid_store(tmp_path / "suite.db")
    expected = {(c.dataset, c.variant): c.verdict for c in compare(read_runs(store))}
    app = open_app(store, monkeypatch)
    rows = leaderboard_rows(app)
    variants = rows[rows["verdict"] != _tables.BASELINE]
    assert dict(zip(zip(variants["dataset"], variants["variant"]), variants["verdict"])) == expected
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
    runs = read_runs(grid_store)
    comparisons = pd.DataFrame([c.to_dict() | {"p_shown": c.shown_p, "ci95_lo": c.ci95[0], "ci95_hi": c.ci95[1]} for c in compare(runs)])
    table = _tables.leaderboard(runs, comparisons, None)
    csv = pd.read_csv(io.BytesIO(_tables.to_csv(table)))
    assert list(csv["variant"]) == list(table["variant"])
    assert np.allclose(csv["gain"].dropna(), table["gain"].dropna(), rtol=0, atol=0)
    assert set(csv["metric_unit"]) == {_tables.metric_unit(m) for m in table["metric"]}


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
