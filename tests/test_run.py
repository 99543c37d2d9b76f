"""`suite run` end to end on real data: the grid, shared baselines, re-runs, resume after kill -9, bad input."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from _interrupt import KEPT_AT, MOMENTS, RUNS, RunningGrid, can_see_waits, integrity, resume, stored_runs

from suite.grid import GridRequest, plan
from suite.runner import run_grid
from suite.store import read_runs

REPO = Path(__file__).resolve().parents[1]
TINY = {"epochs": 1, "image_size": 32, "model.width": 4, "batch_size": 8}


def _request(shared_data: Path, variants: list[str], folds: int = 3) -> GridRequest:
    return GridRequest(
        variants=variants,
        dataset="isbi2012-membrane",
        data_root=str(shared_data / "isbi2012-membrane"),
        folds=folds,
        overrides=dict(TINY),
    )


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "suite", *args], cwd=REPO, capture_output=True, text=True, env=env, timeout=600
    )


@pytest.mark.slow
def test_grid_trains_each_cell_once_and_shares_the_baseline(shared_data: Path, tmp_path: Path) -> None:
    store = tmp_path / "suite.db"
    first = run_grid(_request(shared_data, ["unet+se", "unet+cbam@skip"]), str(store))
    assert (first.trained, first.skipped) == (9, 0)
    runs = read_runs(store, status=None)
    assert sorted(runs["spec"].unique()) == sorted(first.grid.specs)
    assert runs.groupby("spec").size().tolist() == [3, 3, 3]
    assert runs["key"].is_unique and set(runs["status"]) == {"done"}
    assert runs["manifest_hash"].nunique() == 1 and runs["recipe_hash"].nunique() == 1
    assert runs["val_dice"].between(0, 1).all() and runs["gmacs"].gt(0).all()

    again = run_grid(_request(shared_data, ["unet+se", "unet+cbam@skip"]), str(store))
    assert (again.trained, again.skipped) == (0, 9)

    more = run_grid(_request(shared_data, ["unet+se", "unet+eca"]), str(store))
    assert (more.trained, more.skipped) == (3, 6)  # only the new variant's folds x seeds
    runs = read_runs(store, status=None)
    assert len(runs) == 12
    # Every spec was timed with its baseline interleaved, the new variant too, though the baseline was stored.
    assert runs["latency_ms"].gt(0).all() and runs["baseline_latency_ms"].gt(0).all()
    baseline_rows = runs[runs["spec"] == "unet"]
    assert (baseline_rows["baseline_latency_ms"] == baseline_rows["latency_ms"]).all()


@pytest.mark.slow
@pytest.mark.parametrize("moment", MOMENTS)
def test_grid_killed_at_any_moment_resumes_without_duplicates(moment: str, tmp_path: Path) -> None:
    if moment == "store write" and not can_see_waits():
        pytest.skip("needs /proc/PID/task/TID/wchan to see the process wait for the store's lock")
    store = tmp_path / "suite.db"
    grid = RunningGrid(store)
    grid.stop_at(moment, signal.SIGKILL)
    assert grid.finish()[0] == -signal.SIGKILL
    kept = stored_runs(store)
    assert kept in KEPT_AT[moment], "killed at another moment"
    assert not store.exists() or integrity(store) == "ok"

    finished = resume(store)
    assert finished.returncode == 0, finished.stderr
    runs = read_runs(store, status=None)
    assert len(runs) == RUNS and runs["key"].is_unique and set(runs["status"]) == {"done"}


def test_plan_pairs_every_variant_with_its_baseline(shared_data: Path) -> None:
    grid = plan(_request(shared_data, ["UNet+SE", "unet+se@decoder"], folds=3))
    assert grid.specs == ["unet", "unet+se@dec1,dec2,dec3,dec4"]  # one canonical variant, baseline implied
    assert len(grid.jobs) == 6
    by_cell = {}
    for job in grid.jobs:
        by_cell.setdefault((job.fold, job.seeds), []).append(job)
    for jobs in by_cell.values():
        assert {j.recipe_hash for j in jobs} == {grid.jobs[0].recipe_hash}
        assert {j.manifest_hash for j in jobs} == {grid.manifest.sha256}


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--variant", "unet+nosuch"], "unknown module"),
        (["--variant", "unet+se", "--dataset", "nosuch"], "unknown dataset"),
        (["--variant", "unet+se", "--profile", "huge"], "profile"),
        (["--variant", "unet+se", "--folds", "1"], "--folds"),
        (["--variant", "unet+se", "--seeds", "0"], "--seeds"),
        (["--variant", "unet+se", "--set", "nosuch=1"], "nosuch"),
        (["--variant", "unet+se", "--dataset", "digits"], "cls"),
    ],
)
def test_bad_input_is_one_line_and_leaves_the_store_alone(
    args: list[str], needle: str, shared_data: Path, tmp_path: Path
) -> None:
    store = tmp_path / "suite.db"
    result = _cli("run", *args, "--data-root", str(shared_data / "isbi2012-membrane"), "--store", str(store))
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in result.stderr
    assert not store.exists()


def test_newer_store_schema_is_refused_before_training(shared_data: Path, tmp_path: Path) -> None:
    store = tmp_path / "suite.db"
    with sqlite3.connect(store) as db:
        db.execute("PRAGMA user_version = 999")
    before = store.read_bytes()
    result = _cli(
        "run", "--variant", "unet+se", "--dataset", "isbi2012-membrane",
        "--data-root", str(shared_data / "isbi2012-membrane"), "--folds", "3", "--store", str(store),
    )
    assert result.returncode != 0 and "newer" in result.stderr and "Traceback" not in result.stderr
    assert store.read_bytes() == before


def test_a_failed_run_is_kept_and_trained_again_only_on_retry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    import torch

    run_one_module = importlib.import_module("suite.train.run_one")
    real, calls = run_one_module.train_one_epoch, []

    def out_of_memory_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(*args, **kwargs)

    store = tmp_path / "suite.db"
    request = GridRequest(["unet+se"], dataset="shapes", folds=3, overrides=dict(TINY))
    monkeypatch.setattr(run_one_module, "train_one_epoch", out_of_memory_once)
    first = run_grid(request, str(store))
    assert (first.trained, first.failed) == (6, 1)  # the grid went on after the failed run
    monkeypatch.setattr(run_one_module, "train_one_epoch", real)
    assert run_grid(request, str(store)).trained == 0  # a failed run is a result: kept, not redone

    retried = run_grid(request, str(store), retry_failed=True)
    assert (retried.trained, retried.skipped, retried.failed) == (1, 5, 0)
    runs = read_runs(store, status=None)
    assert len(runs) == 6 and runs["key"].is_unique and set(runs["status"]) == {"done"}


def test_cpu_memory_exhausted_in_training_is_a_failed_run_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    import torch

    from suite.train.run_one import run_one

    run_one_module = importlib.import_module("suite.train.run_one")
    grid = plan(GridRequest(["unet+se"], dataset="shapes", folds=3, overrides=dict(TINY)))

    def allocate_a_pebibyte(*args, **kwargs):
        return torch.empty(2**50, dtype=torch.uint8)  # the real CPU allocator refuses it

    monkeypatch.setattr(run_one_module, "train_one_epoch", allocate_a_pebibyte)
    record = run_one(grid.jobs[0], grid.data)
    assert record.status == "failed" and record.error.startswith("out of memory on cpu in epoch 1 (")
    assert "--batch-size" in record.error and "\n" not in record.error

    def a_bug(*args, **kwargs):
        raise RuntimeError("shape mismatch in a module")

    monkeypatch.setattr(run_one_module, "train_one_epoch", a_bug)
    with pytest.raises(RuntimeError, match="shape mismatch"):  # other errors are bugs, not failed runs
        run_one(grid.jobs[0], grid.data)


@pytest.mark.slow
def test_classification_grid_on_digits_through_the_command_line(tmp_path: Path) -> None:
    store = tmp_path / "suite.db"
    args = [
        "run", "--variant", "resnet18+se", "--variant", "resnet18+eca@stage4", "--dataset", "digits",
        "--folds", "3", "--epochs", "1", "--image-size", "8", "--set", "model.width=4", "--store", str(store),
    ]  # fmt: skip
    done = _cli(*args, env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr
    runs = read_runs(store, status=None)
    assert runs.groupby("spec").size().to_dict() == {
        "resnet18": 3, "resnet18+eca@stage4": 3, "resnet18+se@blocks1,blocks2,blocks3,blocks4": 3,
    }  # fmt: skip
    assert runs["key"].is_unique and set(runs["status"]) == {"done"} and runs["val_accuracy"].between(0, 100).all()
    assert runs["n_train"].add(runs["n_val"]).eq(1797).all() and runs["manifest_hash"].nunique() == 1
    for row in ("resnet18 (baseline)", "resnet18+se@blocks", "resnet18+eca@stage4"):
        assert row in done.stdout
    assert "digits · accuracy" in done.stdout and f"store: {store}" in " ".join(done.stdout.split())
