"""Curated variant sets (``variants/*.yaml``): every shipped set resolves, bad files get one-line errors,
and ``suite run --grid`` trains a set's grids like the same ``--variant`` commands would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from suite.cli import app
from suite.datasets import DATASETS
from suite.errors import SuiteError
from suite.grid import check_request
from suite.recipe import load_recipe
from suite.spec import canonical
from suite.store import read_runs
from suite.variant_sets import GRID_KEYS, available, load, resolve

REPO = Path(__file__).resolve().parents[1]
SETS = available()
runner = CliRunner()


def test_the_demo_and_a_ci_set_ship_with_the_project():
    assert {"demo", "ci-digits"} <= set(SETS)


@pytest.mark.parametrize("name", SETS)
def test_every_shipped_set_resolves_against_the_registries(name):
    for request in load(name):
        check_request(request)
        assert request.dataset in DATASETS, request.dataset
        task = DATASETS.entry(request.dataset).meta["task"]
        for variant in request.variants:
            spec = canonical(variant)
            assert not spec.is_baseline, f"{variant}: a set lists variants; their baselines come with them"
            load_recipe(spec.baseline, task, request.profile, request.overrides)


def test_the_demo_needs_no_files_and_no_network():
    origins = {DATASETS.entry(r.dataset).meta["card"].origin for r in load("demo")}
    assert origins <= {"generated", "bundled"}, origins


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "set.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("grids: []", "needs a non-empty list under 'grids:'"),
        ("- unet+se", "needs a non-empty list under 'grids:'"),
        ("grids: [unet+se]", "grid 1 is not a mapping of keys"),
        ("grids:\n  - {variants: [unet+se], fold: 3}", "grid 1 has unknown key 'fold'; keys: variants"),
        ("grids:\n  - {dataset: shapes}", "needs 'variants:' as a list of spec strings"),
        ("grids:\n  - {variants: unet+se}", "needs 'variants:' as a list of spec strings"),
        ("grids:\n  - {variants: [unet+se], overrides: [epochs]}", "'overrides:' must map recipe keys"),
        ("grids:\n  - {variants: [unet+se]\n", "is not valid YAML at line"),
    ],
)
def test_bad_set_files_name_the_fix(tmp_path, text, message):
    with pytest.raises(SuiteError, match=message) as err:
        load(str(write(tmp_path, text)))
    assert "\n" not in str(err.value)


def test_unknown_set_lists_the_sets():
    with pytest.raises(SuiteError, match="no variant set 'nope'.*sets: .*demo"):
        resolve("nope")


def test_grid_keys_are_the_run_options_but_the_device():
    assert "device" not in GRID_KEYS and {"variants", "dataset", "folds", "seeds", "overrides"} <= set(GRID_KEYS)


@pytest.mark.slow
def test_run_grid_trains_a_set_and_command_line_options_override_it(tmp_path):
    path = write(
        tmp_path,
        "grids:\n"
        "  - variants: [unet+se]\n"
        "    dataset: shapes\n"
        "    folds: 4\n"
        "    overrides: {epochs: 1, image_size: 32, model.width: 4, batch_size: 16}\n",
    )
    store = tmp_path / "suite.db"
    args = ["run", "--grid", str(path), "--store", str(store), "--device", "cpu", "--folds", "3"]
    first = runner.invoke(app, args, env={"COLUMNS": "120"})
    assert first.exit_code == 0, first.output
    runs = read_runs(store)
    assert len(runs) == 6 and set(runs["k"]) == {3}  # --folds 3 beat the set's 4
    assert {r["epochs"] for r in runs["recipe"]} == {1}
    again = runner.invoke(app, args, env={"COLUMNS": "120"})
    assert again.exit_code == 0 and "trained 0 runs" in again.output


def test_a_mistake_in_a_later_grid_stops_the_set_before_anything_trains(tmp_path):
    path = write(
        tmp_path,
        "grids:\n"
        "  - {variants: [unet+se], dataset: shapes, folds: 3, overrides: {epochs: 1, image_size: 32, model.width: 4}}\n"
        "  - {variants: [resnet18+se], dataset: shapes}\n",
    )
    done = suite_command("run", "--grid", str(path), "--store", str(tmp_path / "s.db"))
    assert done.returncode == 2 and "dataset 'shapes' is a seg set but resnet18 is a cls baseline" in done.stderr
    assert not (tmp_path / "s.db").exists()


def suite_command(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "suite", *args], cwd=REPO, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--grid", "demo", "--variant", "unet+se"], "pass --grid or --variant, not both"),
        ([], "no variant given; pass --variant SPEC (e.g. --variant unet+se) or --grid SET (sets: "),
        (["--grid", "nope"], "no variant set 'nope'"),
    ],
)
def test_bad_grid_options_are_one_line_and_write_nothing(tmp_path, args, message):
    done = suite_command("run", *args, "--store", str(tmp_path / "s.db"))
    assert done.returncode == 2 and message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not (tmp_path / "s.db").exists()


@pytest.mark.parametrize("folds", [None, 3])
def test_demo_trains_the_set_with_its_own_folds_unless_given(monkeypatch, folds):
    """`suite demo` hands the demo set's grids to the study runner, --folds replacing the set's only when given."""
    from suite.commands import run as run_command

    planned = []
    monkeypatch.setattr(run_command, "run_studies", lambda studies, *args, **kwargs: planned.extend(studies))
    args = ["demo"] + ([] if folds is None else ["--folds", str(folds)])
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    expected = [r.folds if folds is None else folds for r in load("demo")]
    assert [study.grid.folds for study in planned] == expected
    assert all(study.kind == "grid" for study in planned)
